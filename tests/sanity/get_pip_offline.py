"""Stand-in for ansible-test's pip bootstrap script, whose download host is unreachable here.

ansible-test runs it as `python get_pip.py [pip options] pip==X [--no-setuptools] [--no-wheel]`
inside a fresh venv. We bootstrap with the interpreter's own ensurepip, then install the
requested pip version from the package index like the real script does.
"""

import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet"] + args, check=True)


if __name__ == "__main__":
    main()
