# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # Standard attributes of the ipvs_* modules; each module then declares the support level.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
"""

    # The ipvs_* modules that change the IPVS table (full check and diff mode unless a module says otherwise).
    IPVS = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
requirements:
  - C(ipvsadm) (1.31 or later) and a kernel with IPVS (C(ip_vs)) on the target.
notes:
  - The module reads the live table with C(ipvsadm -S -n) plus C(ipvsadm -L -n --thresholds) under C(LC_ALL=C)
    and sends every change of one call to the kernel in one C(ipvsadm -R) batch, editing existing
    services and real servers in place (C(-E)/C(-e)) so that live connections survive.
  - The table is snapshotted first and verified after the change; on any failure the touched services are
    restored to the snapshot exactly and the module fails with the failing line, C(rc), C(stdout) and C(stderr).
  - Concurrent invocations on one host are serialised with a lock (C(flock)) on C(/run/lvs-cluster-ipvs.lock).
  - Outside check mode the module loads C(ip_vs) and the scheduler module it needs when they are missing.
"""
