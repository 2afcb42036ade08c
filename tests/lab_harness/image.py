"""Guest image: a Debian root filesystem built with mmdebstrap, cached by recipe hash.

The image carries every package the roles and tests use, so guests never need a
network beyond the lab. It is rebuilt only when the recipe (release, packages,
guest files, build steps, SSH key) changes.
"""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from . import paths
from .progress import Timer, say

RELEASES = ("bookworm", "trixie")
DEFAULT_RELEASE = "bookworm"
DISK_SIZE = "3G"

PACKAGES = (
    "linux-image-amd64", "systemd-sysv", "udev", "dbus", "kmod", "procps", "iproute2",
    "iputils-ping", "netbase", "openssh-server", "python3", "python3-apt", "ipvsadm",
    "keepalived", "nftables", "iptables", "curl", "apache2", "socat", "tcpdump",
    "netcat-openbsd", "conntrack",
)

# Units that only slow an emulated boot down, or that the roles enable themselves.
MASKED_UNITS = (
    "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "e2scrub_reap.service",
    "fstrim.timer", "dpkg-db-backup.timer", "systemd-networkd-wait-online.service",
    "getty@tty1.service", "systemd-timesyncd.service", "logrotate.timer",
)
DISABLED_UNITS = ("apache2.service", "keepalived.service", "ipvsadm.service", "nftables.service")

GUEST_DIR = Path(__file__).resolve().parent / "guest"
GUEST_FILES = {
    "lvslab-setup": "/usr/local/sbin/lvslab-setup",
    "lvslab-setup.service": "/etc/systemd/system/lvslab-setup.service",
    "sshd-lab.conf": "/etc/ssh/sshd_config.d/lvslab.conf",
    "initramfs-lvslab.conf": "/etc/initramfs-tools/conf.d/lvslab",
    "initramfs-modules": "/etc/initramfs-tools/modules",
}
# Bump when the build steps below change in a way the recipe does not capture.
BUILD_STEPS_VERSION = 4


class ImageError(Exception):
    """The image could not be built."""


class Image:
    """A built image: kernel, initrd and a qcow2 root disk, plus the SSH key it trusts."""

    def __init__(self, directory, key):
        self.directory = Path(directory)
        self.key = Path(key)

    @property
    def kernel(self):
        return self.directory / "vmlinuz"

    @property
    def initrd(self):
        return self.directory / "initrd.img"

    @property
    def disk(self):
        return self.directory / "base.qcow2"

    def complete(self):
        return all(p.is_file() for p in (self.kernel, self.initrd, self.disk))


def ssh_key():
    """The harness's SSH key pair, created once per cache."""
    key = paths.cache_root() / "ssh" / "id_ed25519"
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lvs-cluster-lab",
                        "-f", str(key)], check=True)
    return key


def recipe(release, pubkey):
    """Everything that determines the image's content, as a JSON-able dict."""
    if release not in RELEASES:
        raise ImageError("unknown release %r (choose from %s)" % (release, ", ".join(RELEASES)))
    files = {dest: (GUEST_DIR / name).read_text() for name, dest in sorted(GUEST_FILES.items())}
    return {
        "release": release,
        "packages": sorted(PACKAGES),
        "masked": sorted(MASKED_UNITS),
        "disabled": sorted(DISABLED_UNITS),
        "files": files,
        "pubkey": pubkey,
        "disk_size": DISK_SIZE,
        "steps": BUILD_STEPS_VERSION,
    }


def recipe_hash(release, pubkey):
    text = json.dumps(recipe(release, pubkey), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def image_dir(release, pubkey):
    return paths.images_root() / ("%s-%s" % (release, recipe_hash(release, pubkey)))


def _customize_hooks(overlay):
    """mmdebstrap hooks (run with the root directory as $1) that finish the guest."""
    masked = " ".join(MASKED_UNITS)
    disabled = " ".join(DISABLED_UNITS)
    return [
        'cp -a "%s"/. "$1"/' % overlay,
        'chmod 0755 "$1/usr/local/sbin/lvslab-setup"',
        'chmod 0700 "$1/root/.ssh" && chmod 0600 "$1/root/.ssh/authorized_keys"',
        'chroot "$1" systemctl enable lvslab-setup.service ssh.service',
        'chroot "$1" update-initramfs -u -k all',
        'chroot "$1" systemctl mask %s' % masked,
        'for u in %s; do chroot "$1" systemctl disable "$u" 2>/dev/null || true; done' % disabled,
        'printf "/dev/vda / ext4 rw,noatime,errors=remount-ro 0 1\\n" > "$1/etc/fstab"',
        'echo lvslab > "$1/etc/hostname"',
        'mkdir -p "$1/etc/systemd/journald.conf.d"',
        'printf "[Journal]\\nStorage=volatile\\n" > "$1/etc/systemd/journald.conf.d/lvslab.conf"',
        'rm -f "$1"/var/cache/apt/archives/*.deb',
    ]


def build(release, image, pubkey, log_path):
    """Build the image into a temporary directory, then move it into place."""
    tmp = image.directory.with_name(image.directory.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    root = tmp / "root"
    overlay = tmp / "overlay"
    for name, dest in GUEST_FILES.items():
        target = overlay / dest.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(GUEST_DIR / name, target)
    (overlay / "root/.ssh").mkdir(parents=True)
    (overlay / "root/.ssh/authorized_keys").write_text(pubkey + "\n")
    cmd = ["mmdebstrap", "--mode=root", "--variant=minbase",
           "--include=" + ",".join(PACKAGES)]
    cmd += ["--customize-hook=" + hook for hook in _customize_hooks(overlay)]
    cmd += [release, str(root)]
    with open(log_path, "w") as log:
        with Timer("building %s image with mmdebstrap (log: %s)" % (release, log_path)):
            proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False)
        if proc.returncode != 0:
            raise ImageError("mmdebstrap failed (rc=%d); see %s" % (proc.returncode, log_path))
        kernels = sorted((root / "boot").glob("vmlinuz-*"))
        initrds = sorted((root / "boot").glob("initrd.img-*"))
        if not kernels or not initrds:
            raise ImageError("the root filesystem has no kernel or initrd in /boot")
        shutil.copy2(kernels[-1], tmp / "vmlinuz")
        shutil.copy2(initrds[-1], tmp / "initrd.img")
        raw = tmp / "disk.raw"
        with Timer("creating the %s root disk" % DISK_SIZE):
            subprocess.run(["truncate", "-s", DISK_SIZE, str(raw)], check=True)
            subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "lvslab", "-d", str(root), str(raw)],
                           stdout=log, stderr=subprocess.STDOUT, check=True)
            subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(tmp / "base.qcow2")],
                           stdout=log, stderr=subprocess.STDOUT, check=True)
    raw.unlink()
    shutil.rmtree(root)
    shutil.rmtree(overlay)
    (tmp / "recipe.json").write_text(json.dumps(recipe(release, pubkey), indent=1, sort_keys=True))
    if image.directory.exists():
        shutil.rmtree(image.directory)
    os.rename(tmp, image.directory)


def ensure(release=DEFAULT_RELEASE):
    """Return a built image for release, building it only when its recipe is new."""
    key = ssh_key()
    pubkey = Path(str(key) + ".pub").read_text().strip()
    image = Image(image_dir(release, pubkey), key)
    if image.complete():
        say("image %s is cached (%s)" % (release, image.directory))
        return image
    image.directory.parent.mkdir(parents=True, exist_ok=True)
    build(release, image, pubkey, image.directory.parent / ("%s-build.log" % image.directory.name))
    return image
