"""Make the docsite of `make docs` build offline: a local intersphinx inventory for the Ansible docsite.

antsibull-docs' pages refer to a few labels of the Ansible docsite (common return values,
configuration settings, modules named in seealso), which Sphinx resolves through intersphinx
inventories it downloads; this machine and CI cannot reach docs.ansible.com. This script writes an
inventory of exactly those labels, with their addresses on the Ansible docsite, and makes conf.py use
it as the only intersphinx mapping. A page that refers to any other external label fails the build
(sphinx-build -W, nitpicky), and the label is added here.

Usage: python docs/offline_intersphinx.py DOCS_DIR   (the directory antsibull-docs sphinx-init wrote)
"""

import sys
import zlib
from pathlib import Path

ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
# label -> (address under ANSIBLE_DOCS, title)
LABELS = {
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values",
                             "Return Values"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings",
                                       "Ansible Configuration Settings"),
    # the note of a module with an action plugin (ipvs_table)
    "action_plugins": ("plugins/action.html#action-plugins", "Action plugins"),
    "ansible_collections.ansible.posix.sysctl_module": (
        "collections/ansible/posix/sysctl_module.html#ansible-collections-ansible-posix-sysctl-module",
        "ansible.posix.sysctl module"),
}
INVENTORY = "ansible_devel.inv"


def inventory():
    """The bytes of a Sphinx version 2 inventory of LABELS."""
    head = ("# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
            "# The remainder of this file is compressed using zlib.\n")
    lines = "".join("%s std:label -1 %s %s\n" % (label, uri, title) for label, (uri, title) in sorted(LABELS.items()))
    return head.encode() + zlib.compress(lines.encode())


def main(argv):
    docs = Path(argv[1])
    conf = docs / "conf.py"
    if not conf.is_file():
        raise SystemExit("%s has no conf.py: run antsibull-docs sphinx-init first" % docs)
    (docs / INVENTORY).write_bytes(inventory())
    with conf.open("a") as handle:
        handle.write("\n# make docs: offline, one local inventory (docs/offline_intersphinx.py)\n"
                     "intersphinx_mapping = {'ansible_devel': (%r, %r)}\n"
                     % (ANSIBLE_DOCS, str((docs / INVENTORY).resolve())))


if __name__ == "__main__":
    main(sys.argv)
