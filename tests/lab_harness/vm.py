"""Boot, track and tear down the guests of one lab run.

Each run has an id and a directory under the cache (overlay disks, console logs,
state.json, inventory.yml, ssh_config). Guests are qemu processes detached from the
caller; state.json records their pids so that `down` (or a failed `up`) ends exactly
the processes this run started, and nothing else.

Networking:
- management: user-mode networking with restrict=on (no route out of the guest) and an
  SSH forward bound to 127.0.0.1 only;
- lab segments: qemu socket netdevs on a multicast group bound to 127.0.0.1, one group
  and port per segment and run, so the host only ever sees UDP on loopback and two labs
  never share a segment.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import yaml

from . import image as image_mod
from . import paths
from .progress import Timer, say

SSH_TIMEOUT = int(os.environ.get("LVSLAB_SSH_TIMEOUT", "420"))
MGMT_MAC = "52:54:00:00:00:01"


class LabError(Exception):
    """A lab could not be booted, found or torn down."""


def ssh_options(key, port):
    return ["-i", str(key), "-p", str(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5"]


def _free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _used_segments():
    used = set()
    for state in list_runs():
        for seg in state.get("segments", {}).values():
            used.add((seg["group"], seg["port"]))
    return used


def _allocate_segments(topology):
    used = _used_segments()
    rng = random.SystemRandom()
    segments = {}
    for name in topology.networks:
        while True:
            group = "239.255.%d.%d" % (rng.randint(1, 254), rng.randint(1, 254))
            port = rng.randint(20000, 60000)
            if (group, port) not in used:
                used.add((group, port))
                break
        segments[name] = {"group": group, "port": port}
    return segments


def _mac(run_byte, host_index, nic_index):
    return "52:54:%02x:%02x:%02x:%02x" % (0x10 + nic_index, run_byte, host_index // 256, host_index % 256)


def _accel():
    """tcg unless LVSLAB_ACCEL says otherwise; 'auto' probes KVM once per host kernel."""
    choice = os.environ.get("LVSLAB_ACCEL", "tcg")
    if choice != "auto":
        return choice
    marker = paths.cache_root() / ("kvm-probe-%s" % os.uname().release)
    if marker.exists():
        return marker.read_text().strip()
    result = "tcg"
    if os.path.exists("/dev/kvm"):
        img = image_mod.ensure()
        console = marker.with_suffix(".console")
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "256", "-nodefaults",
             "-display", "none", "-no-reboot", "-serial", "file:%s" % console, "-kernel", str(img.kernel),
             "-append", "console=ttyS0 panic=-1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(8)
        proc.kill()
        proc.wait()
        if console.exists() and "Linux version" in console.read_text(errors="replace"):
            result = "kvm"
    marker.write_text(result)
    say("KVM probe: using %s" % result)
    return result


def _qemu_argv(run_id, run_dir, img, host, host_index, run_byte, ssh_port, segments, accel):
    append = ["root=/dev/vda", "rw", "console=ttyS0", "quiet", "net.ifnames=0", "panic=10",
              "lvslab.hostname=%s" % host.name, "lvslab.mgmt=%s" % MGMT_MAC]
    nic_args = []
    for nic in host.nics:
        mac = _mac(run_byte, host_index, nic.index)
        append.append("lvslab.nic=%s,%s" % (mac, ",".join(str(a) for a in nic.addresses)))
        seg = segments[nic.network]
        nic_args += ["-netdev", "socket,id=lab%d,mcast=%s:%d,localaddr=127.0.0.1" % (nic.index, seg["group"], seg["port"]),
                     "-device", "virtio-net-pci,netdev=lab%d,mac=%s" % (nic.index, mac)]
    cpu = "host" if accel == "kvm" else "max"
    accel_opt = "tcg,thread=multi" if accel == "tcg" else accel
    return ["qemu-system-x86_64", "-name", "lvslab-%s-%s" % (run_id, host.name),
            "-accel", accel_opt, "-cpu", cpu, "-m", str(host.memory), "-smp", str(host.cpus),
            "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
            "-serial", "file:%s" % (run_dir / ("%s.console.log" % host.name)),
            "-pidfile", str(run_dir / ("%s.pid" % host.name)),
            "-kernel", str(img.kernel), "-initrd", str(img.initrd), "-append", " ".join(append),
            "-drive", "file=%s,format=qcow2,if=virtio,cache=unsafe" % (run_dir / ("%s.qcow2" % host.name)),
            "-device", "virtio-rng-pci",
            "-netdev", "user,id=mgmt,restrict=on,ipv6=off,hostfwd=tcp:127.0.0.1:%d-:22" % ssh_port,
            "-device", "virtio-net-pci,netdev=mgmt,mac=%s" % MGMT_MAC] + nic_args


def _pid_alive(pid, run_id):
    """True only for a live process that is one of this run's guests."""
    try:
        cmdline = Path("/proc/%d/cmdline" % pid).read_bytes()
    except OSError:
        return False
    return ("lvslab-%s-" % run_id).encode() in cmdline


def _write_state(run_dir, state):
    tmp = run_dir / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, run_dir / "state.json")


def list_runs():
    runs = []
    root = paths.runs_root()
    if not root.is_dir():
        return runs
    for state_file in sorted(root.glob("*/state.json")):
        try:
            runs.append(json.loads(state_file.read_text()))
        except (OSError, ValueError):
            continue
    return runs


def find_run(run_id=None):
    """The run named, else LVSLAB_RUN, else the only run there is."""
    run_id = run_id or os.environ.get("LVSLAB_RUN")
    runs = list_runs()
    if run_id:
        for state in runs:
            if state["run_id"] == run_id:
                return state
        raise LabError("no lab run %r (running: %s)" % (run_id, ", ".join(r["run_id"] for r in runs) or "none"))
    if len(runs) == 1:
        return runs[0]
    if not runs:
        raise LabError("no lab is running (start one with: make lab-up TOPOLOGY=nat)")
    raise LabError("several labs are running, name one with --run: %s" % ", ".join(r["run_id"] for r in runs))


def _wait_for_ssh(state, name, started, results):
    host = state["hosts"][name]
    argv = ["ssh"] + ssh_options(state["key"], host["ssh_port"]) + ["root@127.0.0.1", "true"]
    deadline = started + SSH_TIMEOUT
    while time.monotonic() < deadline:
        if not _pid_alive(host["pid"], state["run_id"]):
            qemu_log = Path(host["console"]).with_name("%s.qemu.log" % name)
            said = qemu_log.read_text(errors="replace").strip()[-600:] if qemu_log.exists() else ""
            results[name] = "qemu exited (%s); console: %s" % (said or "no message", host["console"])
            return
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # noqa: S603
        if proc.returncode == 0:
            elapsed = time.monotonic() - started
            host["boot_seconds"] = round(elapsed, 1)
            say("%s reachable over SSH in %.1f s" % (name, elapsed))
            results[name] = None
            return
        time.sleep(1)
    results[name] = "no SSH after %d s; console: %s" % (SSH_TIMEOUT, host["console"])


def boot_id(state, name):
    host = state["hosts"][name]
    argv = ["ssh"] + ssh_options(state["key"], host["ssh_port"]) + ["root@127.0.0.1", "cat /proc/sys/kernel/random/boot_id"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    return proc.stdout.strip() if proc.returncode == 0 else ""


def wait_for_ssh_again(state, name, old_boot_id, timeout=SSH_TIMEOUT):
    """After a guest reboot: wait until SSH answers from a new boot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = boot_id(state, name)
        if current and current != old_boot_id:
            return
        time.sleep(2)
    raise LabError("%s did not come back within %d s" % (name, timeout))


def power_off(state, name):
    """Cut one guest's power: SIGTERM ends its qemu at once (no shutdown in the guest; qemu still writes
    its disk caches, so the overlay stays sound). Returns time.time() of the cut."""
    host = state["hosts"][name]
    pid = host["pid"]
    if not _pid_alive(pid, state["run_id"]):
        raise LabError("%s is not running" % name)
    cut = time.time()
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while _pid_alive(pid, state["run_id"]):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    return cut


def power_on(state, name):
    """Start a powered-off guest again with its own command line (same disk, NICs and SSH port) and wait
    for SSH; the run's state file records the new process."""
    host = state["hosts"][name]
    if _pid_alive(host["pid"], state["run_id"]):
        raise LabError("%s is running already" % name)
    run_dir = Path(state["dir"])
    with open(run_dir / ("%s.qemu.log" % name), "a") as log:
        proc = subprocess.Popen(host["argv"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # noqa: S603
                                stderr=log, start_new_session=True)
    host["pid"] = proc.pid
    _write_state(run_dir, state)
    results = {}
    _wait_for_ssh(state, name, time.monotonic(), results)
    if results.get(name):
        raise LabError(results[name])


def inventory(state, topology):
    """An Ansible YAML inventory for the run: hosts, groups and each host's lab NICs."""
    hosts = {}
    groups = {}
    for host in topology.hosts:
        info = state["hosts"][host.name]
        nics = {nic.network: {"interface": nic.interface,
                              "address": str(nic.addresses[0].ip),
                              "prefix": nic.addresses[0].network.prefixlen,
                              "addresses": [str(a) for a in nic.addresses]} for nic in host.nics}
        hv = {"ansible_host": "127.0.0.1", "ansible_port": info["ssh_port"], "ansible_user": "root",
              "ansible_ssh_private_key_file": state["key"],
              "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
              "ansible_python_interpreter": "/usr/bin/python3", "lab_nics": nics}
        hv.update(host.vars)
        hosts[host.name] = hv
        for group in host.groups:
            groups.setdefault(group, {"hosts": {}})["hosts"][host.name] = None
    all_vars = {"lab_run_id": state["run_id"], "lab_topology": topology.name}
    all_vars.update(topology.vars)
    return {"all": {"hosts": hosts, "children": groups, "vars": all_vars}}


def write_molecule_config(state, path):
    """Molecule's instance config: one entry per guest with its SSH details."""
    conf = [{"instance": name, "address": "127.0.0.1", "user": "root", "port": host["ssh_port"],
             "identity_file": state["key"], "lab_run_id": state["run_id"]}
            for name, host in state["hosts"].items()]
    Path(path).write_text(yaml.safe_dump(conf, sort_keys=False))


def _ssh_config(state):
    lines = []
    for name, host in state["hosts"].items():
        lines += ["Host %s" % name, "  HostName 127.0.0.1", "  Port %d" % host["ssh_port"], "  User root",
                  "  IdentityFile %s" % state["key"], "  StrictHostKeyChecking no",
                  "  UserKnownHostsFile /dev/null", "  LogLevel ERROR", ""]
    return "\n".join(lines)


def up(topology, release=image_mod.DEFAULT_RELEASE, run_id=None, inventory_path=None):
    """Boot every host of topology in parallel and wait for SSH; returns the run state.

    On any failure or interruption the guests already started are torn down.
    """
    img = image_mod.ensure(release)
    accel = _accel()
    run_id = run_id or "%s-%s" % (topology.name, os.urandom(3).hex())
    run_dir = paths.runs_root() / run_id
    if run_dir.exists():
        raise LabError("run %r exists already; tear it down first" % run_id)
    run_dir.mkdir(parents=True)
    state = {"run_id": run_id, "topology": topology.name, "release": release, "dir": str(run_dir),
             "key": str(img.key), "accel": accel, "created": time.time(), "owner_pid": os.getpid(),
             "segments": _allocate_segments(topology), "hosts": {}}
    _write_state(run_dir, state)
    # Explicit handlers: a process started in the background inherits SIGINT ignored, and Ctrl-C
    # or a kill must still tear down what was started.
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_byte = int(run_id.encode().hex()[-2:], 16)
        with Timer("booting %d guest(s) of topology %s (%s)" % (len(topology.hosts), topology.name, accel)):
            started = time.monotonic()
            for index, host in enumerate(topology.hosts, start=1):
                overlay = run_dir / ("%s.qcow2" % host.name)
                subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(img.disk), "-F", "qcow2",
                                str(overlay)], check=True)
                # The SSH port is free when chosen but another process may take it before qemu binds
                # it; qemu then exits at once, so start it again on another port.
                qemu_log = run_dir / ("%s.qemu.log" % host.name)
                for attempt in range(3):
                    port = _free_tcp_port()
                    argv = _qemu_argv(run_id, run_dir, img, host, index, run_byte, port, state["segments"], accel)
                    with open(qemu_log, "w") as log:
                        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # noqa: S603
                                                stderr=log, start_new_session=True)
                    time.sleep(0.5)
                    if proc.poll() is None:
                        break
                    say("%s: qemu exited at start (attempt %d): %s" % (
                        host.name, attempt + 1, qemu_log.read_text(errors="replace").strip()[-300:]))
                state["hosts"][host.name] = {"pid": proc.pid, "ssh_port": port, "argv": argv,
                                             "console": str(run_dir / ("%s.console.log" % host.name))}
                _write_state(run_dir, state)
            results = {}
            threads = [threading.Thread(target=_wait_for_ssh, args=(state, name, started, results))
                       for name in state["hosts"]]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            failures = {k: v for k, v in results.items() if v}
            if failures:
                raise LabError("; ".join("%s: %s" % kv for kv in sorted(failures.items())))
            state["boot_seconds"] = round(time.monotonic() - started, 1)
        _write_state(run_dir, state)
        inv = yaml.safe_dump(inventory(state, topology), sort_keys=False, default_flow_style=False)
        (run_dir / "inventory.yml").write_text(inv)
        (run_dir / "ssh_config").write_text(_ssh_config(state))
        if inventory_path:
            Path(inventory_path).write_text(inv)
        say("lab %s is up: %d host(s) in %.1f s; inventory %s" % (run_id, len(topology.hosts),
                                                                  state["boot_seconds"], run_dir / "inventory.yml"))
        return state
    except BaseException:
        say("boot of %s failed or was interrupted: tearing it down" % run_id)
        down(run_id)
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def down(run_id):
    """End this run's guests (only processes whose command line names the run) and remove its files."""
    run_dir = paths.runs_root() / run_id
    state_file = run_dir / "state.json"
    if not state_file.exists():
        if run_dir.exists():
            shutil.rmtree(run_dir, ignore_errors=True)
        return 0
    state = json.loads(state_file.read_text())
    pids = [h["pid"] for h in state["hosts"].values() if _pid_alive(h["pid"], run_id)]
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_pid_alive(p, run_id) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        if _pid_alive(pid, run_id):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    shutil.rmtree(run_dir, ignore_errors=True)
    say("lab %s is down (%d guest(s) stopped)" % (run_id, len(pids)))
    return len(pids)


def status_alive(state):
    """host -> whether its guest process is running."""
    return {name: _pid_alive(h["pid"], state["run_id"]) for name, h in state["hosts"].items()}


def status():
    """One dict per run: id, topology, and for each host its pid, port and liveness."""
    out = []
    for state in list_runs():
        alive = status_alive(state)
        hosts = {name: {"ssh_port": h["ssh_port"], "pid": h["pid"], "alive": alive[name]}
                 for name, h in state["hosts"].items()}
        out.append({"run_id": state["run_id"], "topology": state["topology"], "dir": state["dir"],
                    "boot_seconds": state.get("boot_seconds"), "hosts": hosts})
    return out


def ssh_argv(state, host, command):
    if host not in state["hosts"]:
        raise LabError("run %s has no host %r (hosts: %s)" % (state["run_id"], host, ", ".join(state["hosts"])))
    port = state["hosts"][host]["ssh_port"]
    tty = ["-t"] if not command else []
    return ["ssh"] + tty + ssh_options(state["key"], port) + ["root@127.0.0.1"] + list(command)
