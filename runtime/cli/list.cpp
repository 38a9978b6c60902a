// tether list [--format table|json] [--quiet]
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/operations.hpp"
#include "spec/state.hpp"

namespace tether::cli {
namespace {

// The user named by uid in /etc/passwd ("name:x:uid:..."), or "" when none.
// Not getpwuid: tether is linked statically, and a static glibc's getpwuid
// loads NSS modules at run time (and warns at link time). runc reads
// /etc/passwd too (user.LookupUid); LDAP/sssd users show as their number.
std::string passwd_name(uid_t uid) {
    std::FILE* passwd = std::fopen("/etc/passwd", "re");
    if (!passwd) return "";
    std::string found;
    char* line = nullptr;
    size_t capacity = 0;
    while (found.empty() && ::getline(&line, &capacity, passwd) > 0) {
        char* name_end = std::strchr(line, ':');
        char* password_end = name_end ? std::strchr(name_end + 1, ':') : nullptr;
        if (!password_end) continue;
        char* uid_end = nullptr;
        unsigned long value = std::strtoul(password_end + 1, &uid_end, 10);
        if (uid_end == password_end + 1 || *uid_end != ':' || value != uid) continue;
        found.assign(line, name_end);
    }
    std::free(line);
    std::fclose(passwd);
    return found;
}

std::string owner_name(const std::string& root, const std::string& id) {
    struct stat st;
    if (::stat((root + "/" + id).c_str(), &st) != 0) return "";
    std::string name = passwd_name(st.st_uid);
    return name.empty() ? std::to_string(st.st_uid) : name;
}

// Columns like runc's tabwriter(minwidth 12, padding 3).
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths;
    for (const auto& row : rows)
        for (size_t i = 0; i < row.size(); ++i) {
            if (widths.size() <= i) widths.push_back(0);
            widths[i] = std::max(widths[i], std::max<size_t>(12, row[i].size() + 3));
        }
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size(), ' ');
        }
        std::printf("%s\n", line.c_str());
    }
}

}  // namespace

void add_list(CLI::App& app, const GlobalOptions& global, Action& action) {
    struct Args {
        std::string format = "table";
        bool quiet = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("list", "list containers");
    cmd->alias("ls");
    cmd->add_option("-f,--format", args->format, "table or json")->check(CLI::IsMember({"table", "json"}));
    cmd->add_flag("-q,--quiet", args->quiet, "print only the ids");
    cmd->callback([&global, &action, args] {
        action = [&global, args] {
            StateStore store = global.store();
            std::vector<spec::State> states;
            for (auto& listed : list_containers(store)) {
                listed.state.owner = owner_name(store.root(), listed.state.id);
                states.push_back(listed.state);
            }
            if (args->quiet) {
                for (const auto& s : states) std::printf("%s\n", s.id.c_str());
            } else if (args->format == "json") {
                std::printf("%s\n", spec::states_to_json_array(states).c_str());
            } else {
                std::vector<std::vector<std::string>> rows{{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
                for (const auto& s : states)
                    rows.push_back({s.id, std::to_string(s.pid), s.status, s.bundle, s.created, s.owner});
                print_table(rows);
            }
            return 0;
        };
    });
}

}  // namespace tether::cli
