# bash completion for tether(8). Installed as
# <prefix>/share/bash-completion/completions/tether (loaded on first use by
# the bash-completion package).
#
# Completes the verbs, the global flags, each verb's flags, and container ids
# (from `tether list -q` under the --root given on the line) where a verb
# takes one.

_tether_ids() {
    local root=() i
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case ${COMP_WORDS[i]} in
            --root) root=(--root "${COMP_WORDS[i + 1]}") ;;
            --root=*) root=(--root "${COMP_WORDS[i]#--root=}") ;;
        esac
    done
    "${COMP_WORDS[0]}" "${root[@]}" list -q 2>/dev/null
}

_tether() {
    local cur prev verb="" i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    local verbs="create start run exec kill delete state list ps pause resume update events spec features"
    local global="--root --log --log-format --debug --systemd-cgroup --rootless --criu --default-policy
        --admin-config --proxy-request-head-timeout --proxy-idle-timeout --version --help"
    # Global options that take a value: skip the value when finding the verb.
    local global_args=" --root --log --log-format --rootless --criu --default-policy --admin-config
        --proxy-request-head-timeout --proxy-idle-timeout "

    for ((i = 1; i < COMP_CWORD; i++)); do
        local w=${COMP_WORDS[i]}
        if [[ $global_args == *" $w "* ]]; then
            ((i++))
            continue
        fi
        if [[ $w != -* ]]; then
            verb=$w
            break
        fi
    done

    case $prev in
        --log-format) mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur"); return ;;
        --rootless) mapfile -t COMPREPLY < <(compgen -W "true false auto" -- "$cur"); return ;;
        -f | --format) [[ $verb == list || $verb == ps ]] &&
            { mapfile -t COMPREPLY < <(compgen -W "table json" -- "$cur"); return; } ;;
        --root | -b | --bundle) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
        --log | --pid-file | --default-policy | --admin-config | -p | --process | -r | --resources | --console-socket)
            mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    esac

    if [[ -z $verb ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$global" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur")
        fi
        return
    fi

    local flags="" takes_id=1
    case $verb in
        create) flags="--bundle --pid-file --console-socket --preserve-fds --no-pivot --no-new-keyring"; takes_id=0 ;;
        run) flags="--bundle --pid-file --console-socket --preserve-fds --no-pivot --no-new-keyring --detach --keep"; takes_id=0 ;;
        exec) flags="--process --detach --pid-file --tty --console-socket --cwd --env --user --additional-gids
            --cap --no-new-privs --preserve-fds --process-label --apparmor" ;;
        kill) flags="--all" ;;
        delete) flags="--force" ;;
        list) flags="--format --quiet"; takes_id=0 ;;
        ps) flags="--format" ;;
        update) flags="--resources --memory" ;;
        events) flags="--stats --interval --denials --decisions --last" ;;
        spec) flags="--bundle --rootless"; takes_id=0 ;;
        features) takes_id=0 ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$flags --help" -- "$cur")
    elif [[ $takes_id -eq 1 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_tether_ids)" -- "$cur")
    fi
}

complete -F _tether tether
