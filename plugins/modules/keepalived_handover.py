#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: keepalived_handover
short_description: Bridge the services keepalived hands back to ipvs_table, so none is ever missing
version_added: 0.2.0
description:
  - A keepalived reload deletes every virtual service that is no longer in its configuration, and stopping
    keepalived deletes all of them; M(lvs.cluster.ipvs_table) adds a service taken back from keepalived only later
    in the same run. This module closes that window.
  - With O(state=present), it reads which services keepalived runs (from the data dump its checker process writes
    on C(SIGUSR1)) and, for each of O(services) among them, adds a bridge. A bridge is a firewall-mark service with
    the same scheduler, persistence and real servers (weights included) as the live service, plus an nftables rule
    in table C(inet lvs_cluster_handover) that marks the new packets of the service for it. IPVS looks a packet's
    firewall mark up before its address and port, so new connections go through the bridge while keepalived deletes
    the service and ipvs_table adds it again. Connections opened before keep their real server; IPVS finds them in
    its connection table first.
  - With O(state=absent), it deletes the nftables table first (new connections go to the service again), then the
    bridge services. Connections opened through a bridge keep their real server.
  - Bridges use the firewall marks 0x4c560000 to 0x4c56ffff. A service with such a mark is treated as a bridge; the
    module deletes any it does not need. O(state=present) replaces earlier bridges, so a run that failed halfway
    leaves traffic flowing through its bridge until the next run.
  - IPVS changes go in one C(ipvsadm -R) batch, verified and rolled back as M(lvs.cluster.ipvs_table) does.
extends_documentation_fragment:
  - lvs.cluster.attributes
attributes:
  check_mode:
    support: full
    details: In check mode the module reads keepalived's services and the table and reports the bridges it would add.
  diff_mode:
    support: full
options:
  services:
    description:
      - The services ipvs_table is to own, as entries of M(lvs.cluster.ipvs_table)'s O(lvs.cluster.ipvs_table#module:services).
        Only their keys (C(protocol), C(address), C(port)) are read.
      - Those keepalived runs now are bridged. Firewall-mark services are not bridged.
      - Ignored with O(state=absent).
    type: list
    elements: dict
    default: []
  state:
    description: V(present) puts up the bridges the hand-over needs now; V(absent) takes every bridge down.
    type: str
    choices: [present, absent]
    default: present
  drain_timeout:
    description:
      - IPVS drops the packets of a connection whose service is deleted. So once new connections go elsewhere (to
        the bridge with O(state=present), back to the service with O(state=absent)), the module waits up to this
        many seconds until the service about to be deleted has no active (established) connection left.
      - The wait ends at once when there is none; V(0) does not wait.
    type: float
    default: 10
requirements:
  - C(ipvsadm), and C(nft) (nftables) when a service is bridged. keepalived 2.x; when it does not run, nothing is bridged.
notes:
  - A connection that outlives O(drain_timeout), a long keep-alive connection for example, ends when its service is
    deleted, as it does when keepalived deletes a service without a bridge.
  - While a bridge is up, the nftables rule sets the firewall mark of the service's new packets, replacing any mark
    set before it at the same hook priority.
  - With C(net.ipv4.vs.expire_nodest_conn=1) a connection whose real server leaves its service is dropped at its
    next packet, so connections of the deleted service (and of a bridge taken down) end. The module does not
    change that setting.
seealso:
  - module: lvs.cluster.keepalived_state
  - module: lvs.cluster.ipvs_table
author:
  - lvs.cluster developers (@lvs-cluster)
"""

EXAMPLES = r"""
- name: Bridge the services keepalived is about to hand back
  lvs.cluster.keepalived_handover:
    services:
      - {protocol: tcp, address: 192.0.2.10, port: 80}
  register: handover

# ... reload keepalived with a configuration without that service, then run ipvs_table with it ...

- name: Take the bridges down
  lvs.cluster.keepalived_handover:
    state: absent
  when: handover.bridges | length > 0
"""

RETURN = r"""
bridges:
  description: The bridges up after the call (none with O(state=absent)), or that would be, in check mode.
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: The bridged service.
      type: str
      sample: tcp 192.0.2.10:80
    fwmark:
      description: The firewall mark of its bridge.
      type: int
      sample: 1280704512
    ignore:
      description: A selector of the bridge for M(lvs.cluster.ipvs_table)'s O(lvs.cluster.ipvs_table#module:ignore).
      type: dict
      sample: {fwmark: 1280704512, family: ipv4}
waited:
  description: Seconds waited for the active connections of the services about to be deleted to end.
  returned: always
  type: float
  sample: 0.4
commands:
  description: The ipvsadm lines and the nft script the call ran (or would, in check mode).
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils._handover import (
    NFT_TABLE, bridge_intents, bridges, is_bridge, leaving, nft_ruleset)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, key_text, service_key
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_reconcile import reconcile, table_diff
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_runner import C_LOCALE, Ipvsadm
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_validate import build_key_service
from ansible_collections.lvs.cluster.plugins.module_utils._keepalived_state import (
    keepalived_pid, parse_check_dump, read_dump)


def keepalived_keys():
    """The services keepalived runs now; none when it does not run."""
    pid = keepalived_pid()
    return set(parse_check_dump(read_dump(pid))) if pid else set()


def active_connections(ipvs, select):
    listing = ipvs.read_listing(['--thresholds'])
    return sum(row[2] for key, svc in listing.items() if select(key) for row in svc['real_servers'].values())


def wait_idle(ipvs, select, timeout, poll=0.2):
    """Wait until the services whose key select() accepts have no active connection or timeout passes;
    the seconds waited."""
    start = time.time()
    while active_connections(ipvs, select) and time.time() - start < timeout:
        time.sleep(poll)
    return round(time.time() - start, 1)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type='list', elements='dict', default=[]),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            drain_timeout=dict(type='float', default=10),
        ),
        supports_check_mode=True,
    )
    present = module.params['state'] == 'present'
    try:
        keys = [service_key(build_key_service(item, 'services[%d]' % i)) for i, item in enumerate(module.params['services'])]
        moving = leaving(keepalived_keys(), keys) if present else []
    except IpvsError as e:
        module.fail_json(msg=str(e))
    planned = []

    def wanted(table):
        planned[:] = bridges(table, moving)
        return bridge_intents(table, planned)

    nft = module.get_bin_path('nft', required=bool(moving) and present)
    nft_up = False
    if nft:
        rc, dummy, dummy2 = module.run_command([nft, 'list', 'table', 'inet', NFT_TABLE], environ_update=C_LOCALE)
        nft_up = rc == 0
    script = None
    commands = []
    waited = 0.0
    ipvs = Ipvsadm(module)
    # taking down: the rules first, so no new connection is marked for a bridge about to go
    if not present and nft_up:
        script = nft_ruleset([])
        commands.append(script)
        if not module.check_mode:
            run_nft(module, nft, script)
            waited = wait_idle(ipvs, is_bridge, module.params['drain_timeout'])
    dummy, before, after, ops, touched, dummy2 = reconcile(module, wanted, ipvs=ipvs)
    commands[:0] = [op.line for op in ops]
    if present and (planned or nft_up):
        # putting up: the bridge services are in, now the rules (replacing any earlier ones)
        script = nft_ruleset(planned)
        commands.append(script)
        if not module.check_mode:
            run_nft(module, nft, script)
            if planned:
                bridged = set(key for key, svc in planned)
                waited = wait_idle(ipvs, bridged.__contains__, module.params['drain_timeout'])
    result = dict(changed=bool(ops) or script is not None, commands=commands, waited=waited,
                  bridges=[{'service': key_text(key), 'fwmark': svc['fwmark'],
                            'ignore': {'fwmark': svc['fwmark'], 'family': svc['family']}} for key, svc in planned])
    if module._diff:
        result['diff'] = table_diff(before, after, set(k for k in touched if is_bridge(k)))
    module.exit_json(**result)


def run_nft(module, nft, script):
    rc, out, err = module.run_command([nft, '-f', '-'], data=script, environ_update=C_LOCALE)
    if rc != 0:
        module.fail_json(msg='nft -f - failed (the bridge services are in place)', cmd='%s -f -' % nft, rc=rc,
                         stdout=out, stderr=err, script=script)


if __name__ == '__main__':
    main()
