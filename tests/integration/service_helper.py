#!/usr/bin/env python3
"""What t82_service.sh needs to play systemd's part without systemd.

  service_helper.py exec UNIT INSTANCE
      The unit's Exec lines as systemd would run them for INSTANCE, one per
      line: KIND, TAB, the '-' prefix or 'none', TAB, the argv shell-quoted;
      first a line "Environment", TAB, 'none', TAB, the NAME=VALUE words the
      commands get.
      Environment= gives the defaults, variables of this process's
      environment override them (as /etc/default/xicept would); %i and %I
      become INSTANCE; "$VAR" as a whole word splits into words, "${VAR}"
      is replaced inside its word.
  service_helper.py listen SOCKET OUT
      Binds an AF_UNIX datagram socket at SOCKET (what NOTIFY_SOCKET names)
      and appends every assignment it receives to OUT as "PID KEY=VALUE",
      PID from the sender's credentials, until killed.
"""
import os
import re
import shlex
import socket
import struct
import sys

EXEC_KEYS = ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecStop", "ExecStopPost")


def unit_lines(path):
    section, pending = None, ""
    with open(path) as f:
        for raw in f:
            line = pending + raw.rstrip("\n")
            pending = ""
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            s = line.strip()
            if not s or s[0] in "#;":
                continue
            if s.startswith("["):
                section = s.strip("[]")
                continue
            key, _, value = s.partition("=")
            yield section, key.strip(), value.strip()


def specifiers(word, instance):
    def one(m):
        c = m.group(1)
        if c in "iI":
            return instance
        if c == "%":
            return "%"
        sys.exit("service_helper: specifier %%%s is not emulated" % c)
    return re.sub(r"%(.)", one, word)


def expand(word, env):
    m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
    if m:
        return env.get(m.group(1), "").split()
    return [re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), word)]


def cmd_exec(unit, instance):
    env, execs = {}, []
    for section, key, value in unit_lines(unit):
        if section != "Service":
            continue
        if key == "Environment":
            for a in shlex.split(value):
                k, _, v = a.partition("=")
                env[k] = v
        elif key in EXEC_KEYS:
            flags = ""
            while value and value[0] in "-@:+!":
                flags += value[0]
                value = value[1:]
            if "@" in flags or "+" in flags or "!" in flags or ":" in flags:
                sys.exit("service_helper: prefix '%s' is not emulated" % flags)
            execs.append((key, flags, value))
    for k in env:
        if k in os.environ:
            env[k] = os.environ[k]
    print("Environment\tnone\t%s" % shlex.join("%s=%s" % kv for kv in env.items()))
    for key, flags, value in execs:
        argv = []
        for w in shlex.split(value):
            argv += expand(specifiers(w, instance), env)
        print("%s\t%s\t%s" % (key, flags or "none", shlex.join(argv)))


def cmd_listen(path, out):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(path)
    with open(out, "a") as f:
        f.write("listening\n")
        f.flush()
        while True:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
            pid = 0
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", cdata[:12])[0]
            for a in data.decode(errors="replace").split("\n"):
                if a:
                    f.write("%d %s\n" % (pid, a))
            f.flush()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "exec":
        cmd_exec(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "listen":
        cmd_listen(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
