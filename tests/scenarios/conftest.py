"""Scenario order: tests that boot labs of their own first, then the seed lab's modules in SEED_ORDER.

The seed lab is session-scoped and stays up until the run ends, so its modules run last and back to
back; NAT first, on the hosts as they booted, and the reset proof after the three labs.
"""

SEED_ORDER = ("test_nat_lab.py", "test_dr_lab.py", "test_tun_lab.py", "test_seed_reset.py")


def pytest_collection_modifyitems(items):
    def key(item):
        name = item.path.name
        return (1, SEED_ORDER.index(name)) if name in SEED_ORDER else (0, 0)

    items.sort(key=key)  # stable: file order within a module is kept
