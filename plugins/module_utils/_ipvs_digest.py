# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# A no-op check on the text of 'ipvsadm -S -n'. The ipvs_table action plugin renders each declared
# service as the -S lines it has when nothing is to change and sends one digest per service; the module
# compares them with digests of the live -S lines grouped by service. When every declared service matches
# and no real server has a threshold (-S shows none), nothing is to change, and the host skips parsing the
# table and building the declaration (most of a no-op's work). Any difference takes the full path, which
# parses what was read and plans as usual: a digest can only say "unchanged".

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import dest_line, service_args, service_line


def _digest(lines):
    return hashlib.sha256('\n'.join(sorted(lines)).encode('utf-8')).hexdigest()


def declared_digests(intents):
    """[[selector, digest]] per declared service, or None when some service cannot be checked this way.

    A service that keeps undeclared real servers (purge_dests false) or declares a threshold (which
    -S does not show) needs the full path.
    """
    out = []
    for it in intents:
        svc, dests = it['service'], it['dests']
        if not it['purge_dests'] or any(d['upper_threshold'] or d['lower_threshold'] for d in dests.values()):
            return None
        lines = [' '.join(service_line('-A', svc))] + [' '.join(dest_line('-a', svc, d)) for d in dests.values()]
        out.append([' '.join(service_args(svc)), _digest(lines)])
    return out


def live_digests(save):
    """{selector: digest} of 'ipvsadm -S -n' output, or None for a line this check does not know."""
    groups = {}
    for line in save.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        stop = {'-A': '-s', '-a': '-r'}.get(tokens[0])
        if stop is None or stop not in tokens:
            return None
        groups.setdefault(' '.join(tokens[1:tokens.index(stop)]), []).append(' '.join(tokens))
    return dict((selector, _digest(lines)) for selector, lines in groups.items())


def no_thresholds(listing):
    """Whether no real server of an 'ipvsadm -L -n --thresholds' listing has a threshold."""
    for line in listing.splitlines():
        tokens = line.split()
        if tokens and tokens[0] == '->' and tokens[1] != 'RemoteAddress:Port':
            if len(tokens) < 4 or tokens[2] != '0' or tokens[3] != '0':
                return False
    return True


def unchanged(save, listing, digests):
    """Whether every declared service (digests from declared_digests) is live exactly as declared."""
    live = live_digests(save)
    return live is not None and all(live.get(selector) == digest for selector, digest in digests) and no_thresholds(listing)
