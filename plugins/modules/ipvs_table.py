#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: ipvs_table
short_description: Reconcile the IPVS (LVS) table with a declared set of services and real servers
version_added: 0.1.0
description:
  - Enforces many virtual services with their real servers in one call and one C(ipvsadm -R) batch,
    one kernel operation per changed service or real server, edits in place.
  - The declaration is authoritative for the services it lists; each declared service gets exactly the
    declared settings and, by default (O(services[].purge_real_servers=true)), exactly the declared real servers.
  - Services that are not declared are left alone unless O(purge=true). Services matching an O(ignore)
    selector (for example owned by keepalived or kube-proxy) are never touched, not even by O(purge).
extends_documentation_fragment:
  - lvs.cluster.attributes
  - lvs.cluster.attributes.ipvs
options:
  services:
    description: The declared virtual services.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: Protocol. Defaults to V(tcp) when O(services[].fwmark) is not used.
        type: str
        choices: [tcp, udp, sctp]
      address:
        description: Virtual IP address. Required unless O(services[].fwmark) is given.
        type: str
      port:
        description: Virtual port (V(0) only for a persistent all-ports service).
        type: int
      fwmark:
        description: Firewall mark of a fwmark service.
        type: int
      family:
        description: Address family of a fwmark service. Defaults to V(ipv4).
        type: str
        choices: [ipv4, ipv6]
      scheduler:
        description: Scheduling algorithm.
        type: str
        default: wlc
        choices: [rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos]
      scheduler_flags:
        description:
          - Scheduler flags, only for V(sh) and V(mh). V(sh-fallback) and V(sh-port) apply to V(sh) only, V(mh-fallback) and
            V(mh-port) to V(mh) only; V(flag-1) and V(flag-2) are aliases of the fallback and port flags.
          - There is no V(flag-3), as C(ipvsadm) shows no name for it with V(sh) and V(mh), so the module could not read
            it back.
        type: list
        elements: str
        choices: [flag-1, flag-2, sh-fallback, sh-port, mh-fallback, mh-port]
      persistence_timeout:
        description: Persistence timeout in seconds (1..2678400); omitted means not persistent.
        type: int
      persistence_netmask:
        description: Persistence netmask, dotted for IPv4 or a prefix length for IPv6; requires O(services[].persistence_timeout).
        type: str
      persistence_engine:
        description: Persistence engine; requires O(services[].persistence_timeout).
        type: str
        choices: [sip]
      one_packet:
        description: One-packet scheduling; only for V(udp) or fwmark services.
        type: bool
        default: false
      real_servers:
        description: The real servers of the service. Omitted means none.
        type: list
        elements: dict
        suboptions:
          address:
            description: Real server address. A family other than the service's needs V(tun).
            type: str
            required: true
          port:
            description: Real server port; defaults to the service port; a different port only with V(nat).
            type: int
          forwarding:
            description: Forwarding method.
            type: str
            default: dr
            choices: [nat, dr, tun]
          weight:
            description: Weight 0..65535.
            type: int
            default: 1
          upper_threshold:
            description: Upper connection threshold, V(0) means none.
            type: int
            default: 0
          lower_threshold:
            description: Lower connection threshold, V(0) means none; not above the upper threshold.
            type: int
            default: 0
          tun_type:
            description: Tunnel type with V(tun); defaults to V(ipip).
            type: str
            choices: [ipip, gue, gre]
          tun_port:
            description: Tunnel port; required for V(gue), forbidden otherwise.
            type: int
          tun_checksum:
            description: Tunnel checksum mode for V(gue)/V(gre); V(remcsum) only for V(gue).
            type: str
            choices: [nocsum, csum, remcsum]
      purge_real_servers:
        description:
          - Delete the real servers of this service that are not declared. Set V(false) to only add and edit.
        type: bool
        default: true
  services_packed:
    description:
      - Internal, set by this module's action plugin on the controller, which checks O(services) there and
        sends them packed in this one string, so that the host does not check and copy thousands of entries
        again. Give O(services) instead.
      - The module still refuses a string that does not hold entries O(services) would take unchanged.
    type: str
    version_added: 0.2.0
  drain_timeout:
    description:
      - Seconds to drain the real servers that this call removes from declared services (because they are no
        longer declared) before removing them. They first get weight V(0) in one batch, so they take no new
        connections; the module then waits until their active plus inactive connections reach V(0) or this
        many seconds pass, and applies the rest of the change in a second batch. Removal happens either way.
      - V(0) removes them at once, in the same batch as every other change.
      - In check mode the module does not wait; RV(drained) then reports the connections it sees.
    type: int
    default: 0
  purge:
    description: Delete every service that is not declared and matches no O(ignore) selector.
    type: bool
    default: false
  ignore:
    description:
      - Selectors of services this module must never touch. A service matches a selector when it has every
        field the selector gives. A declared service must not match a selector.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: Protocol (fwmark services have none).
        type: str
        choices: [tcp, udp, sctp]
      address:
        description: Virtual address.
        type: str
      port:
        description: Virtual port.
        type: int
      fwmark:
        description: Firewall mark.
        type: int
      family:
        description: Address family.
        type: str
        choices: [ipv4, ipv6]
  return_rules:
    description:
      - Return RV(rules), the managed services as C(ipvsadm -R) lines, for example to save them for the boot.
      - Off by default, as with thousands of real servers they make a result of megabytes that Ansible must
        serialise and carry back.
    type: bool
    default: false
    version_added: 0.2.0
  return_services:
    description:
      - Return RV(services), the whole table after the change.
      - Off by default, for the same reason as O(return_rules); M(lvs.cluster.ipvs_info) reads the table too.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - The action plugin of this module checks O(services) on the controller and sends them to the host packed in
    O(services_packed). Without the action plugin (for example when the module file is run directly), the
    module checks O(services) itself.
  - With the action plugin, and without O(purge), O(ignore), O(return_rules) and O(return_services), the host
    first compares the C(ipvsadm -S -n) lines of each declared service with a digest of the lines it has when
    nothing is to change. When all match and no real server has a threshold, the module reports no change
    without parsing the table; otherwise it plans on the table it has read, as usual.
  - The entries of O(services) are checked by the module itself, with the same rules and messages as Ansible's
    own checks of suboptions, before anything is read or changed.
  - Above 1000 services plus real servers, the result's C(invocation) (shown with C(-vvv)) gives O(services) as a
    one-line summary instead of echoing every entry back.
seealso:
  - module: lvs.cluster.ipvs_service
  - module: lvs.cluster.ipvs_realserver
  - module: lvs.cluster.ipvs_info
  - module: lvs.cluster.ipvs_counters
author:
  - lvs.cluster developers (@lvs-cluster)
"""

EXAMPLES = r"""
- name: Two services, everything else on the host untouched
  lvs.cluster.ipvs_table:
    services:
      - address: 192.0.2.10
        port: 80
        scheduler: wrr
        real_servers:
          - {address: 10.0.0.11, weight: 2}
          - {address: 10.0.0.12}
      - protocol: udp
        address: 192.0.2.10
        port: 53
        scheduler: rr
        one_packet: true
        real_servers:
          - {address: 10.0.0.31, forwarding: nat, port: 5353}

- name: Own the whole table except the services of keepalived's VIP
  lvs.cluster.ipvs_table:
    services: "{{ director_services }}"
    purge: true
    ignore:
      - address: 192.0.2.200
"""

RETURN = r"""
commands:
  description: The ipvsadm lines, in C(ipvsadm -R) syntax, that ran (or would run in check mode); one per changed object.
  returned: always
  type: list
  elements: str
  sample: ["-D -t 192.0.2.10:8080", "-e -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 2"]
rules:
  description:
    - The services this call manages, that is those declared in O(services), with their real servers, as they
      are after the change (predicted in check mode), as C(ipvsadm -R) lines, thresholds included, which
      C(ipvsadm -S) would drop.
    - Never holds a service matching O(ignore) nor any other service that O(services) does not declare (for
      example one owned by keepalived or kube-proxy), so writing them to the distribution's rules file restores
      at boot exactly what this call owns.
  returned: when O(return_rules=true)
  type: list
  elements: str
  sample: ["-A -t 192.0.2.10:80 -s rr", "-a -t 192.0.2.10:80 -r 10.0.0.11:80 -m -w 1 -x 100 -y 50"]
drained:
  description:
    - The real servers drained before their removal (only with O(drain_timeout) above V(0)), in the order of
      RV(commands). In check mode RV(drained[].seconds) is V(0) and RV(drained[].connections_left) are the
      connections seen.
  returned: always
  type: list
  elements: dict
  sample: [{service: "tcp 192.0.2.10:80", address: 10.0.0.12, port: 80, seconds: 3.1, connections_left: 0}]
  contains:
    service:
      description: The service, as C(protocol address:port) or C(fwmark N family).
      type: str
    address:
      description: Real server address.
      type: str
    port:
      description: Real server port.
      type: int
    seconds:
      description: Seconds waited until its connections reached 0, or until O(drain_timeout) passed.
      type: float
    connections_left:
      description: Active plus inactive connections at the last count (0 when drained), removed anyway.
      type: int
services:
  description:
    - The whole table after the change (predicted in check mode), sorted by key; each service as returned by
      M(lvs.cluster.ipvs_service) (key, settings and RV(services[].real_servers)).
  returned: when O(return_services=true)
  type: list
  elements: dict
  contains:
    real_servers:
      description: The real servers of the service.
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_reconcile import reconcile, table_diff
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, export_table, key_text, service_key, table_rules
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_plan import intent
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_digest import unchanged
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_runner import Ipvsadm
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_spec import (
    key_spec, load_packed, plain_valid, services_spec, unpack_rows, validated_list)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_validate import (
    build_dests, build_selector, build_service, selector_matches)


def declared(params, services):
    """Validate the whole declaration first: (intents, selectors)."""
    selectors = [build_selector(item, 'ignore[%d]' % i) for i, item in enumerate(params['ignore'])]
    intents, seen = [], {}
    for index, item in enumerate(services):
        where = 'services[%d]' % index
        svc = build_service(item, where)
        key = service_key(svc)
        if key in seen:
            raise IpvsError('%s: %s is already declared by services[%d]' % (where, key_text(key), seen[key]))
        seen[key] = index
        for i, selector in enumerate(selectors):
            if selector_matches(selector, svc):
                raise IpvsError('%s: %s matches ignore[%d], so it cannot be managed' % (where, key_text(key), i))
        dests = build_dests(svc, item.get('real_servers') or [], where)
        purge_dests = item.get('purge_real_servers')
        intents.append(intent(key, service=svc, dests=dests, purge_dests=True if purge_dests is None else purge_dests))
    return intents, selectors


# services' suboptions are checked by validated_list(), not by AnsibleModule: at thousands of real
# servers AnsibleModule's own check of nested suboptions and its echo of every filled entry cost most
# of the run. The rules and the messages are the same (tests/unit checks the spec against DOCUMENTATION).
SERVICES = services_spec(True)
# Above this many services plus real servers, the result's invocation.module_args.services is a summary:
# AnsibleModule would copy, scan and serialise every entry back to the controller (a quarter of the run).
ECHO_LIMIT = 1000


def fail(module, msg):
    # release the lock first (held after a digest check): a persistent interpreter (Mitogen) runs the next module
    Ipvsadm.unlock()
    module.fail_json(msg=msg)


def declared_services(module, packed):
    """The entries of services, or of services_packed (which the action plugin sends instead)."""
    if packed is None:
        return validated_list(module, 'services', SERVICES)
    try:
        services = unpack_rows(packed, SERVICES)
    except IpvsError as e:
        fail(module, 'services_packed: %s' % e)
    # the controller checked them; a hand-made string is refused here, before anything is changed
    if not plain_valid(services, SERVICES):
        fail(module, 'services_packed: holds entries that services would not take unchanged; give them as services')
    return services


def echo(module, services=None, packed=None):
    """What the result's invocation shows for services (AnsibleModule echoes module.params there).

    From packed (load_packed), a long declaration is counted without unpacking it.
    """
    if packed is not None:
        at = list(SERVICES['options']).index('real_servers')
        rows = packed['rows']
        try:
            count, dests = len(rows), sum(len(row[at] or []) for row in rows if len(row) > at)
        except TypeError as e:
            fail(module, 'services_packed: not a declaration packed by this collection (%s)' % e)
        if count + dests <= ECHO_LIMIT:
            return echo(module, services=unpack_rows(packed, SERVICES))
    else:
        count, dests = len(services), sum(len(item.get('real_servers') or []) for item in services)
    module.params['services'] = services if count + dests <= ECHO_LIMIT else (
        '%d services with %d real servers in all (not echoed above %d entries)' % (count, dests, ECHO_LIMIT))


def read_unless_unchanged(module, packed):
    """Exit unchanged when the digests the action plugin sent match the live table; else (ipvs, read).

    read is the (-S, --thresholds) output, read under the lock that ipvs then holds (outside check mode),
    for reconcile() to plan on; (None, None) when the digest check does not apply.
    """
    params = module.params
    digests = packed.get('digests') if packed else None
    if digests is None or params['purge'] or params['ignore'] or params['return_rules'] or params['return_services']:
        return None, None
    if not (isinstance(digests, list) and all(isinstance(d, list) and len(d) == 2 and all(isinstance(x, str) for x in d)
                                              for d in digests)):
        fail(module, 'services_packed: not a declaration packed by this collection (digests)')
    ipvs = Ipvsadm(module)
    if not ipvs.loaded():
        return None, None
    if not module.check_mode:
        ipvs.lock()
    read = ipvs.read_texts()
    if not unchanged(read[0], read[1], digests):
        return ipvs, read
    ipvs.unlock()
    try:
        echo(module, packed=packed)
    except IpvsError as e:
        fail(module, 'services_packed: %s' % e)
    result = dict(changed=False, commands=[], drained=[])
    if module._diff:
        result['diff'] = table_diff({}, {}, set())
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type='list', elements='dict', default=[]),
            services_packed=dict(type='str'),
            purge=dict(type='bool', default=False),
            drain_timeout=dict(type='int', default=0),
            ignore=dict(type='list', elements='dict', default=[], options=key_spec()),
            return_rules=dict(type='bool', default=False),
            return_services=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('services', 'services_packed')],
        supports_check_mode=True,
    )
    text = module.params.pop('services_packed')
    packed = None
    if text is not None:
        try:
            packed = load_packed(text, SERVICES)
        except IpvsError as e:
            module.fail_json(msg='services_packed: %s' % e)
    ipvs, read = read_unless_unchanged(module, packed)
    services = declared_services(module, packed)
    echo(module, services)
    try:
        if module.params['drain_timeout'] < 0:
            raise IpvsError('drain_timeout: must be >= 0')
        intents, selectors = declared(module.params, services)
    except IpvsError as e:
        fail(module, str(e))

    def keep(svc):
        return any(selector_matches(s, svc) for s in selectors)

    dummy, before, after, ops, touched, drained = reconcile(
        module, intents, purge=module.params['purge'], keep=keep, drain_timeout=module.params['drain_timeout'],
        ipvs=ipvs, read=read)
    result = dict(changed=bool(ops), commands=[op.line for op in ops], drained=drained)
    if module.params['return_rules']:
        # rules hold only what this call owns: the declared services (never ignored or foreign ones)
        owned = dict((it['key'], after[it['key']]) for it in intents if it['key'] in after)
        result['rules'] = table_rules(owned)
    if module.params['return_services']:
        result['services'] = export_table(after)
    if module._diff:
        result['diff'] = table_diff(before, after, touched)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
