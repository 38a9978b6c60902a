#!/usr/bin/python3
"""cri.py — the smallest CRI client the end-to-end tests need (Debian has no crictl).

    cri.py --address UNIX_SOCKET METHOD [REQUEST_JSON]

METHOD is a runtime.v1 RuntimeService call (Version, RunPodSandbox, ...);
REQUEST_JSON is the request message in protobuf's JSON mapping (camelCase
field names, "-" or nothing for an empty request). The response is printed as
one JSON object, bytes fields (ExecSync's stdout and stderr) as text. A gRPC
error prints "CODE: details" on stderr and exits 1: containerd puts the
runtime's message into the details, which is what the tests look for.

The message definitions are built by hand from the published runtime.v1
field numbers (k8s.io/cri-api pkg/apis/runtime/v1/api.proto), with only the
fields the tests use: unknown fields are skipped on the wire by both sides, so
a subset is compatible. Building them with the protobuf runtime's descriptor
classes needs neither protoc nor generated code, only Debian's python3-grpcio
and python3-protobuf. Enums are declared as int32 (the same varint on the
wire); the values the tests use are named in NAMESPACE_MODE below.
"""

import argparse
import base64
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format

try:  # protobuf >= 4.21
    from google.protobuf.message_factory import GetMessageClass
except ImportError:  # pragma: no cover - older runtimes
    from google.protobuf import message_factory

    def GetMessageClass(descriptor):
        return message_factory.MessageFactory().GetPrototype(descriptor)


PACKAGE = "runtime.v1"

# NamespaceMode (api.proto): POD = 0, CONTAINER = 1, NODE = 2, TARGET = 3.
NAMESPACE_MODE = {"POD": 0, "CONTAINER": 1, "NODE": 2, "TARGET": 3}

# Field kinds: scalars by name, "map" (map<string,string>), or ".Message".
# Each field: (name, number, kind) or (name, number, kind, "repeated").
MESSAGES = {
    "VersionRequest": [("version", 1, "string")],
    "VersionResponse": [
        ("version", 1, "string"),
        ("runtime_name", 2, "string"),
        ("runtime_version", 3, "string"),
        ("runtime_api_version", 4, "string"),
    ],
    "KeyValue": [("key", 1, "string"), ("value", 2, "string")],
    "Int64Value": [("value", 1, "int64")],
    "NamespaceOption": [
        ("network", 1, "int32"),
        ("pid", 2, "int32"),
        ("ipc", 3, "int32"),
        ("target_id", 4, "string"),
    ],
    "LinuxSandboxSecurityContext": [
        ("namespace_options", 1, ".NamespaceOption"),
        ("run_as_user", 3, ".Int64Value"),
        ("readonly_rootfs", 4, "bool"),
        ("privileged", 6, "bool"),
    ],
    "LinuxPodSandboxConfig": [
        ("cgroup_parent", 1, "string"),
        ("security_context", 2, ".LinuxSandboxSecurityContext"),
        ("sysctls", 3, "map"),
    ],
    "PodSandboxMetadata": [
        ("name", 1, "string"),
        ("uid", 2, "string"),
        ("namespace", 3, "string"),
        ("attempt", 4, "uint32"),
    ],
    "PodSandboxConfig": [
        ("metadata", 1, ".PodSandboxMetadata"),
        ("hostname", 2, "string"),
        ("log_directory", 3, "string"),
        ("labels", 6, "map"),
        ("annotations", 7, "map"),
        ("linux", 8, ".LinuxPodSandboxConfig"),
    ],
    "RunPodSandboxRequest": [("config", 1, ".PodSandboxConfig"), ("runtime_handler", 2, "string")],
    "RunPodSandboxResponse": [("pod_sandbox_id", 1, "string")],
    "StopPodSandboxRequest": [("pod_sandbox_id", 1, "string")],
    "StopPodSandboxResponse": [],
    "RemovePodSandboxRequest": [("pod_sandbox_id", 1, "string")],
    "RemovePodSandboxResponse": [],
    "PodSandboxFilter": [("id", 1, "string"), ("label_selector", 3, "map")],
    "ListPodSandboxRequest": [("filter", 1, ".PodSandboxFilter")],
    "PodSandbox": [
        ("id", 1, "string"),
        ("metadata", 2, ".PodSandboxMetadata"),
        ("state", 3, "int32"),
        ("created_at", 4, "int64"),
        ("labels", 5, "map"),
        ("annotations", 6, "map"),
        ("runtime_handler", 7, "string"),
    ],
    "ListPodSandboxResponse": [("items", 1, ".PodSandbox", "repeated")],
    "ImageSpec": [("image", 1, "string"), ("annotations", 2, "map")],
    "Capability": [
        ("add_capabilities", 1, "string", "repeated"),
        ("drop_capabilities", 2, "string", "repeated"),
    ],
    "LinuxContainerSecurityContext": [
        ("capabilities", 1, ".Capability"),
        ("privileged", 2, "bool"),
        ("namespace_options", 3, ".NamespaceOption"),
        ("run_as_user", 5, ".Int64Value"),
        ("readonly_rootfs", 7, "bool"),
        ("no_new_privs", 11, "bool"),
    ],
    "LinuxContainerConfig": [("security_context", 2, ".LinuxContainerSecurityContext")],
    "ContainerMetadata": [("name", 1, "string"), ("attempt", 2, "uint32")],
    "ContainerConfig": [
        ("metadata", 1, ".ContainerMetadata"),
        ("image", 2, ".ImageSpec"),
        ("command", 3, "string", "repeated"),
        ("args", 4, "string", "repeated"),
        ("working_dir", 5, "string"),
        ("envs", 6, ".KeyValue", "repeated"),
        ("labels", 9, "map"),
        ("annotations", 10, "map"),
        ("log_path", 11, "string"),
        ("stdin", 12, "bool"),
        ("stdin_once", 13, "bool"),
        ("tty", 14, "bool"),
        ("linux", 15, ".LinuxContainerConfig"),
    ],
    "CreateContainerRequest": [
        ("pod_sandbox_id", 1, "string"),
        ("config", 2, ".ContainerConfig"),
        ("sandbox_config", 3, ".PodSandboxConfig"),
    ],
    "CreateContainerResponse": [("container_id", 1, "string")],
    "StartContainerRequest": [("container_id", 1, "string")],
    "StartContainerResponse": [],
    "StopContainerRequest": [("container_id", 1, "string"), ("timeout", 2, "int64")],
    "StopContainerResponse": [],
    "RemoveContainerRequest": [("container_id", 1, "string")],
    "RemoveContainerResponse": [],
    "ContainerStateValue": [("state", 1, "int32")],
    "ContainerFilter": [
        ("id", 1, "string"),
        ("state", 2, ".ContainerStateValue"),
        ("pod_sandbox_id", 3, "string"),
        ("label_selector", 4, "map"),
    ],
    "ListContainersRequest": [("filter", 1, ".ContainerFilter")],
    "Container": [
        ("id", 1, "string"),
        ("pod_sandbox_id", 2, "string"),
        ("metadata", 3, ".ContainerMetadata"),
        ("image", 4, ".ImageSpec"),
        ("image_ref", 5, "string"),
        ("state", 6, "int32"),
        ("created_at", 7, "int64"),
        ("labels", 8, "map"),
        ("annotations", 9, "map"),
    ],
    "ListContainersResponse": [("containers", 1, ".Container", "repeated")],
    "ContainerStatusRequest": [("container_id", 1, "string"), ("verbose", 2, "bool")],
    "ContainerStatus": [
        ("id", 1, "string"),
        ("metadata", 2, ".ContainerMetadata"),
        ("state", 3, "int32"),
        ("created_at", 4, "int64"),
        ("started_at", 5, "int64"),
        ("finished_at", 6, "int64"),
        ("exit_code", 7, "int32"),
        ("image", 8, ".ImageSpec"),
        ("image_ref", 9, "string"),
        ("reason", 10, "string"),
        ("message", 11, "string"),
        ("labels", 12, "map"),
        ("annotations", 13, "map"),
        ("log_path", 15, "string"),
    ],
    "ContainerStatusResponse": [("status", 1, ".ContainerStatus"), ("info", 2, "map")],
    "ExecSyncRequest": [
        ("container_id", 1, "string"),
        ("cmd", 2, "string", "repeated"),
        ("timeout", 3, "int64"),
    ],
    "ExecSyncResponse": [("stdout", 1, "bytes"), ("stderr", 2, "bytes"), ("exit_code", 3, "int32")],
}

# RuntimeService methods: name -> (request, response).
METHODS = {
    name: (name + "Request", name + "Response")
    for name in [
        "Version",
        "RunPodSandbox",
        "StopPodSandbox",
        "RemovePodSandbox",
        "ListPodSandbox",
        "CreateContainer",
        "StartContainer",
        "StopContainer",
        "RemoveContainer",
        "ListContainers",
        "ContainerStatus",
        "ExecSync",
    ]
}

FDP = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    "string": FDP.TYPE_STRING,
    "bytes": FDP.TYPE_BYTES,
    "bool": FDP.TYPE_BOOL,
    "int32": FDP.TYPE_INT32,
    "int64": FDP.TYPE_INT64,
    "uint32": FDP.TYPE_UINT32,
}


def _add_field(msg, name, number, kind, label=FDP.LABEL_OPTIONAL):
    f = msg.field.add(name=name, number=number, label=label)
    if kind in SCALARS:
        f.type = SCALARS[kind]
    else:
        f.type = FDP.TYPE_MESSAGE
        f.type_name = kind


def build_file():
    """The runtime.v1 subset as a FileDescriptorProto."""
    fd = descriptor_pb2.FileDescriptorProto(name="tether_cri_subset.proto", package=PACKAGE, syntax="proto3")
    for msg_name, fields in MESSAGES.items():
        msg = fd.message_type.add(name=msg_name)
        for field in fields:
            name, number, kind = field[:3]
            if kind == "map":
                # A map<string,string> is a repeated nested XxxEntry message
                # with map_entry set (that is what protoc generates).
                entry = "".join(p.capitalize() for p in name.split("_")) + "Entry"
                nested = msg.nested_type.add(name=entry)
                nested.options.map_entry = True
                _add_field(nested, "key", 1, "string")
                _add_field(nested, "value", 2, "string")
                _add_field(msg, name, number, f".{PACKAGE}.{msg_name}.{entry}", FDP.LABEL_REPEATED)
            else:
                if kind.startswith("."):
                    kind = f".{PACKAGE}{kind}"
                label = FDP.LABEL_REPEATED if field[3:] == ("repeated",) else FDP.LABEL_OPTIONAL
                _add_field(msg, name, number, kind, label)
    return fd


def message_classes():
    pool = descriptor_pool.DescriptorPool()
    pool.Add(build_file())
    return {name: GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}")) for name in MESSAGES}


def to_json(message):
    """The response as a dict; bytes fields decoded as text, not base64."""
    out = json_format.MessageToDict(message, preserving_proto_field_name=False)
    for field in message.DESCRIPTOR.fields:
        if field.type == FDP.TYPE_BYTES and field.json_name in out:
            out[field.json_name] = base64.b64decode(out[field.json_name]).decode("utf-8", "replace")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="containerd's unix socket")
    parser.add_argument("--timeout", type=float, default=60, help="seconds for one call")
    parser.add_argument("method", choices=sorted(METHODS))
    parser.add_argument("request", nargs="?", default="{}", help="request as JSON ('-': stdin)")
    args = parser.parse_args()

    classes = message_classes()
    req_name, resp_name = METHODS[args.method]
    text = sys.stdin.read() if args.request == "-" else args.request
    request = json_format.Parse(text, classes[req_name]())

    with grpc.insecure_channel(f"unix://{args.address}") as channel:
        call = channel.unary_unary(
            f"/{PACKAGE}.RuntimeService/{args.method}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=classes[resp_name].FromString,
        )
        try:
            response = call(request, timeout=args.timeout)
        except grpc.RpcError as e:
            print(f"{e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    print(json.dumps(to_json(response)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
