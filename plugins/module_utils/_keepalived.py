# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# Health-checked services as keepalived virtual_server blocks. A service is validated and made
# canonical by the same code as ipvs_table's (_ipvs_validate), so keepalived and ipvs_table cannot
# disagree on a default (scheduler, forwarding, weight, real-server port) or on what is valid.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress
import math

from ansible.module_utils.six import string_types
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import (
    DEST_FIELDS, KEY_FIELDS, SERVICE_FIELDS, IpvsError, export_service, parse_address, sorted_keys)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_validate import build_dests, build_service

CHECK_TYPES = ('tcp', 'http', 'https', 'misc')
ON_FAILURE = ('remove', 'quiesce')
# Defaults that find a dead real server within 2.5 s and a recovered one within 1.6 s (worst cases in
# detection_seconds). keepalived's own (delay_loop 60, connect_timeout 5) take up to 71-73 s.
DEFAULTS = {'interval': 1.0, 'timeout': 0.6, 'retries': 1, 'delay_before_retry': 0.3, 'alpha': False,
            'on_failure': 'remove', 'expire_connections': None}
HEALTH_CHECK_KEYS = ('type', 'port', 'path', 'status_codes', 'digest', 'regex', 'virtualhost', 'script',
                     'interval', 'timeout', 'retries', 'delay_before_retry', 'alpha', 'on_failure',
                     'expire_connections', 'sorry_server', 'quorum', 'hysteresis', 'quorum_up', 'quorum_down')
SERVICE_KEYS = SERVICE_FIELDS + ('real_servers', 'purge_real_servers', 'health_check')
REAL_SERVER_HOOKS = ('notify_up', 'notify_down')
_METHODS = {'nat': 'NAT', 'dr': 'DR', 'tun': 'TUN'}


def _fail(where, msg):
    raise IpvsError('%s: %s' % (where, msg))


def _number(hc, where, name, integer=False, low=0.0):
    value = hc.get(name, DEFAULTS.get(name))
    if value is None:
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        _fail('%s.%s' % (where, name), 'must be a number, got %r' % (value,))
    if isinstance(value, bool) or number < low or (integer and number != float(value)):
        _fail('%s.%s' % (where, name), 'must be %s >= %s, got %r' % ('an integer' if integer else 'a number', low, value))
    return number


def _text(hc, where, name):
    value = hc.get(name)
    if value is None:
        return None
    if not isinstance(value, string_types) or not value.strip() or '"' in value or '\n' in value:
        _fail('%s.%s' % (where, name), 'must be a non-empty string without double quotes or newlines')
    return value


def build_health_check(hc, family, where):
    """Validate a health_check dict; return it complete (defaults filled, numbers typed)."""
    if not isinstance(hc, dict):
        _fail(where, 'must be a dict, got %s' % type(hc).__name__)
    unknown = sorted(set(hc) - set(HEALTH_CHECK_KEYS))
    if unknown:
        _fail(where, 'unknown option(s) %s (known: %s)' % (', '.join(unknown), ', '.join(HEALTH_CHECK_KEYS)))
    kind = hc.get('type')
    if kind not in CHECK_TYPES:
        _fail(where + '.type', 'must be one of %s, got %r' % (', '.join(CHECK_TYPES), kind))
    out = dict((k, hc.get(k, DEFAULTS.get(k))) for k in HEALTH_CHECK_KEYS)
    for name in ('interval', 'timeout', 'delay_before_retry'):
        out[name] = _number(hc, where, name, low=0.001)
    out['retries'] = _number(hc, where, 'retries', integer=True)
    if out['timeout'] >= out['interval']:
        _fail(where + '.timeout', '%g must be below interval %g, or checks overlap' % (out['timeout'], out['interval']))
    if hc.get('port') is not None:
        out['port'] = _number(hc, where, 'port', integer=True, low=1)
        if out['port'] > 65535:
            _fail(where + '.port', 'must be between 1 and 65535, got %d' % out['port'])
    for name in ('path', 'digest', 'regex', 'virtualhost', 'script', 'quorum_up', 'quorum_down'):
        out[name] = _text(hc, where, name)
    web = kind in ('http', 'https')
    if web and not out['path']:
        _fail(where + '.path', 'is required for a %s check (the URL path to fetch, for example /)' % kind)
    if kind == 'misc' and not out['script']:
        _fail(where + '.script', 'is required for a misc check (the command whose exit code 0 means up)')
    for name in ('path', 'status_codes', 'digest', 'regex', 'virtualhost'):
        if not web and hc.get(name) is not None:
            _fail('%s.%s' % (where, name), 'only applies to http and https checks (type is %s)' % kind)
    if kind != 'misc' and hc.get('script') is not None:
        _fail(where + '.script', 'only applies to misc checks (type is %s)' % kind)
    if kind == 'misc' and hc.get('port') is not None:
        _fail(where + '.port', 'does not apply to misc checks: the script decides what it probes')
    if out['path'] is not None and not out['path'].startswith('/'):
        _fail(where + '.path', 'must start with /, got %r' % out['path'])
    for name in ('path', 'virtualhost'):
        # unquoted in keepalived.conf: a space splits the value, and # or ! start a comment that
        # keepalived --config-test does not report (it would check a shorter path)
        if out[name] is not None and any(c in out[name] for c in ' \t#!'):
            _fail('%s.%s' % (where, name), 'cannot contain spaces, # or !, got %r' % out[name])
    if out['digest'] is not None:
        digest = out['digest'].lower()
        if len(digest) != 32 or any(c not in '0123456789abcdef' for c in digest):
            _fail(where + '.digest', 'must be the MD5 of the body, 32 hex digits (genhash prints it)')
        out['digest'] = digest
    codes = hc.get('status_codes')
    if codes is not None:
        if not isinstance(codes, list) or not codes:
            _fail(where + '.status_codes', 'must be a non-empty list of HTTP status codes')
        for code in codes:
            if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
                _fail(where + '.status_codes', '%r is not an HTTP status code between 100 and 599' % (code,))
        out['status_codes'] = sorted(set(codes))
    if out['on_failure'] not in ON_FAILURE:
        _fail(where + '.on_failure', 'must be one of %s, got %r' % (', '.join(ON_FAILURE), out['on_failure']))
    if out['on_failure'] == 'quiesce' and hc.get('expire_connections'):
        _fail(where + '.expire_connections', 'is a remove option: with on_failure=quiesce a failed server keeps '
              'its connections at weight 0')
    if out['expire_connections'] is None:
        # IPVS otherwise drops, until they time out, the packets of every connection whose real server (or
        # service) left the kernel, even the SYN of a new connection that reuses such a client port
        out['expire_connections'] = out['on_failure'] == 'remove'
    for name in ('alpha', 'expire_connections'):
        if not isinstance(out[name], bool):
            _fail('%s.%s' % (where, name), 'must be true or false, got %r' % (out[name],))
    for name in ('quorum', 'hysteresis'):
        if hc.get(name) is not None:
            out[name] = _number(hc, where, name, integer=True, low=1 if name == 'quorum' else 0)
    sorry = hc.get('sorry_server')
    if sorry is not None:
        if not isinstance(sorry, dict) or not sorry.get('address'):
            _fail(where + '.sorry_server', 'must be a dict with address (and port)')
        address, sorry_family = parse_address(sorry['address'], where + '.sorry_server.address')
        if sorry_family != family:
            _fail(where + '.sorry_server.address', '%s is %s but the service is %s' % (address, sorry_family, family))
        out['sorry_server'] = {'address': address, 'port': _number(sorry, where + '.sorry_server', 'port', integer=True)}
    return out


def checked_record(params, where):
    """A director_services entry with health_check -> (service record with its real_servers dict,
    complete health check, {dest key: {notify_up, notify_down}}), validated as ipvs_table validates."""
    unknown = sorted(set(params) - set(SERVICE_KEYS))
    if unknown:
        _fail(where, 'unknown option(s) %s' % ', '.join(unknown))
    if params.get('purge_real_servers') is False:
        _fail(where + '.purge_real_servers', 'cannot be false on a health-checked service: keepalived owns '
              'its whole pool')
    svc = build_service(params, where)
    plain, hooks = [], []
    for index, item in enumerate(params.get('real_servers') or []):
        item = dict(item or {})
        extra = sorted(set(item) - set(DEST_FIELDS) - set(REAL_SERVER_HOOKS))
        if extra:
            _fail('%s.real_servers[%d]' % (where, index), 'unknown option(s) %s' % ', '.join(extra))
        hooks.append(dict((k, _text(item, '%s.real_servers[%d]' % (where, index), k)) for k in REAL_SERVER_HOOKS))
        plain.append(dict((k, item.get(k)) for k in DEST_FIELDS))
    svc['real_servers'] = build_dests(svc, plain, where)
    if not svc['real_servers']:
        _fail(where + '.real_servers', 'a health-checked service needs at least one real server')
    by_key = dict(zip(svc['real_servers'], hooks))
    hc = build_health_check(params['health_check'], svc['family'], where + '.health_check')
    if hc['type'] != 'misc' and not hc['port'] and not all(port for dummy, port in svc['real_servers']):
        # a fwmark service's real servers may have no port (0): the checker would have none to connect to
        _fail(where + '.health_check.port', 'is required for a %s check of a fwmark service whose real servers '
              'have no port' % hc['type'])
    return svc, hc, by_key


def build_checked_service(params, where):
    """A director_services entry with health_check -> its canonical record as a plain dict (real servers
    as a sorted list), with 'health_check' and, on each real server, 'notify_up'/'notify_down'."""
    svc, hc, hooks = checked_record(params, where)
    out = export_service(svc)
    for dest in out['real_servers']:
        dest.update(hooks[(dest['address'], dest['port'])])
    out['health_check'] = hc
    return out


def split_services(services, name='services'):
    """(services ipvs_table owns, canonical records keepalived owns, ignore selectors of the latter).

    One writer per service: a service with health_check goes to keepalived only, and ipvs_table is
    told to ignore its key.
    """
    table, checked, ignore, seen = [], [], [], {}
    for index, params in enumerate(services or []):
        where = '%s[%d]' % (name, index)
        if not isinstance(params, dict) or params.get('health_check') is None:
            # health_check: null (an inventory switching checks off) is no check
            table.append(dict((k, v) for k, v in params.items() if k != 'health_check')
                         if isinstance(params, dict) else params)
            continue
        record = build_checked_service(params, where)
        key = tuple(record[k] for k in KEY_FIELDS)
        if key in seen:
            _fail(where, 'the same virtual service as %s' % seen[key])
        seen[key] = where
        checked.append(record)
        names = ('fwmark', 'family') if record['fwmark'] else ('protocol', 'address', 'port')
        ignore.append(dict((k, record[k]) for k in names))
    return table, checked, ignore


def detection_seconds(hc):
    """Worst-case seconds from a failure (or recovery) to the table change, for a given health check.

    Down: the failure lands just after a successful check; the next check starts interval later and
    times out; each of the retries waits delay_before_retry and times out again.
    Up: a down checker is re-run every interval; the first success adds the server (http and https
    checks render fast_recovery, or they would need a second success one interval later).
    """
    down = hc['interval'] + hc['timeout'] + hc['retries'] * (hc['delay_before_retry'] + hc['timeout'])
    up = hc['interval'] + hc['timeout']
    return round(down, 3), round(up, 3)


def _num(value):
    return ('%.3f' % value).rstrip('0').rstrip('.') if isinstance(value, float) else str(value)


def _quoted(command):
    return '"%s"' % command


def _method(dest):
    words = [_METHODS[dest['forwarding']]]
    if dest['forwarding'] == 'tun' and dest['tun_type'] and dest['tun_type'] != 'ipip':
        words += ['type', dest['tun_type']]
        if dest['tun_port']:
            words += ['port', str(dest['tun_port'])]
        if dest['tun_checksum']:
            words.append(dest['tun_checksum'])
    return ' '.join(words)


def _checker(svc, dest, hc):
    kind = hc['type']
    timers = ['retry %d' % hc['retries'], 'delay_before_retry %s' % _num(hc['delay_before_retry'])]
    if kind == 'misc':
        return (['MISC_CHECK {', '    misc_path %s' % _quoted(hc['script']),
                 '    misc_timeout %s' % _num(max(1, int(math.ceil(hc['timeout']))))]
                + ['    ' + t for t in timers] + ['}'])
    port = hc['port'] or dest['port'] or svc['port']
    lines = ['    connect_port %d' % port, '    connect_timeout %s' % _num(hc['timeout'])] + ['    ' + t for t in timers]
    if kind == 'tcp':
        return ['TCP_CHECK {'] + lines + ['}']
    url = ['    url {', '        path %s' % hc['path']]
    if hc['status_codes']:
        url.append('        status_code %s' % ' '.join(str(c) for c in hc['status_codes']))
    if hc['digest']:
        url.append('        digest %s' % hc['digest'])
    if hc['regex']:
        url.append('        regex %s' % _quoted(hc['regex']))
    url.append('    }')
    if hc['virtualhost']:
        lines.append('    virtualhost %s' % hc['virtualhost'])
    # one success brings a failed server back (without it, keepalived waits another interval)
    lines.append('    fast_recovery')
    return ['%s {' % ('HTTP_GET' if kind == 'http' else 'SSL_GET')] + url + lines + ['}']


def render_virtual_server(svc):
    """The keepalived virtual_server block (list of lines) of one record from build_checked_service."""
    hc = svc['health_check']
    if svc['fwmark']:
        lines = ['virtual_server fwmark %d {' % svc['fwmark']]
        if svc['family'] == 'ipv6':
            lines.append('    ip_family inet6')
    else:
        lines = ['virtual_server %s %d {' % (svc['address'], svc['port']),
                 '    protocol %s' % svc['protocol'].upper()]
    body = ['delay_loop %s' % _num(hc['interval']), 'lvs_sched %s' % svc['scheduler']]
    body += list(svc['scheduler_flags'])
    if svc['persistence_timeout']:
        body.append('persistence_timeout %d' % svc['persistence_timeout'])
        if svc['persistence_netmask'] not in ('255.255.255.255', '128'):
            body.append('persistence_granularity %s' % svc['persistence_netmask'])
    if svc['persistence_engine']:
        body.append('persistence_engine %s' % svc['persistence_engine'])
    if svc['one_packet']:
        body.append('ops')
    if hc['alpha']:
        body.append('alpha')
    if hc['on_failure'] == 'quiesce':
        body.append('inhibit_on_failure')
    for name in ('quorum', 'hysteresis'):
        if hc[name] is not None:
            body.append('%s %d' % (name, hc[name]))
    for name in ('quorum_up', 'quorum_down'):
        if hc[name]:
            body.append('%s %s' % (name, _quoted(hc[name])))
    if hc['sorry_server']:
        sorry = hc['sorry_server']
        body.append('sorry_server %s %d' % (sorry['address'], sorry['port'] or svc['port'] or 0))
    for dest in svc['real_servers']:
        body.append('real_server %s %d {' % (dest['address'], dest['port']))
        rs = ['weight %d' % dest['weight'], 'lvs_method %s' % _method(dest)]
        if dest['upper_threshold']:
            rs.append('uthreshold %d' % dest['upper_threshold'])
        if dest['lower_threshold']:
            rs.append('lthreshold %d' % dest['lower_threshold'])
        for name in REAL_SERVER_HOOKS:
            if dest.get(name):
                rs.append('%s %s' % (name, _quoted(dest[name])))
        rs += _checker(svc, dest, hc)
        body += ['    ' + line for line in rs] + ['}']
    return lines + ['    ' + line for line in body] + ['}']


def render_config(checked, script_user='keepalived_script', header='', extra_global=(), vrrp=None):
    """The whole keepalived.conf for the checked services (records of split_services) and, for
    director HA, the VRRP instance and sync daemon of a build_vrrp record."""
    lines = [header] if header else []
    glob, blocks = render_vrrp(vrrp) if vrrp else ([], [])
    lines += ['global_defs {', '    enable_script_security', '    script_user %s' % script_user]
    lines += ['    ' + line for line in list(extra_global) + glob] + ['}']
    if blocks:
        lines += [''] + blocks
    keyed = dict(((svc['protocol'] or '', svc['address'] or '', svc['port'] or 0, svc['fwmark'] or 0), svc)
                 for svc in checked)
    for key in sorted_keys(keyed):
        lines.append('')
        lines += render_virtual_server(keyed[key])
    return '\n'.join(lines) + '\n'


# Director HA: one VRRP instance holds the VIPs (the director's VIP unit steps aside), the IPVS sync
# daemons (master and backup on every director, started at boot before keepalived) copy connections.
# The defaults do not preempt: a rebooted former master stays backup, so connections
# synced to the new master are never broken by a failback.
VRRP_KEYS = ('interface', 'virtual_router_id', 'group', 'advert_int', 'version', 'preempt', 'preempt_delay',
             'unicast_peers', 'unicast_src_ip', 'authentication', 'track_interfaces', 'track_script',
             'sync_interface', 'sync_id', 'garp_master_refresh')
VRRP_DEFAULTS = {'group': 'directors', 'advert_int': 1.0, 'version': 3, 'preempt': False, 'preempt_delay': 0,
                 'unicast_peers': [], 'unicast_src_ip': None, 'authentication': None, 'track_interfaces': [],
                 'track_script': None, 'sync_interface': None, 'sync_id': None, 'garp_master_refresh': 0}
TRACK_SCRIPT_KEYS = ('script', 'interval', 'timeout', 'weight', 'fall', 'rise')
AUTH_TYPES = ('PASS', 'AH')
# Derived priorities: the first director of the group 200, each next one 10 less.
PRIORITY_TOP, PRIORITY_STEP = 200, 10


def _ip(value, where):
    try:
        return ipaddress.ip_address(u'%s' % (value,))
    except ValueError:
        _fail(where, 'must be a plain IP address, got %r' % (value,))


def _ifname(value, where):
    if not isinstance(value, string_types) or not value or any(c in value for c in ' \t\n"{}#!/'):
        _fail(where, 'must be an interface name, got %r' % (value,))
    return value


def derive_priority(hosts, host, priority=None):
    """A host's VRRP priority: its own when given, else by its place in the HA group's host list."""
    if priority is not None:
        return priority
    if host not in hosts:
        return None
    return max(1, PRIORITY_TOP - PRIORITY_STEP * list(hosts).index(host))


def build_vrrp(ha, vips, priority, where='director_ha', networks=None):
    """Validate director_ha for one director; return the canonical VRRP record.

    vips: director_vips ({address, interface, prefix}); priority: this host's (1-254), already derived;
    networks: {interface: [ipaddress.ip_interface, ...]} of this host, to check each VIP is on the
    network of its interface (None skips that check).
    """
    if not isinstance(ha, dict):
        _fail(where, 'must be a dict, got %s' % type(ha).__name__)
    unknown = sorted(set(ha) - set(VRRP_KEYS))
    if unknown:
        _fail(where, 'unknown option(s) %s (known: %s)' % (', '.join(unknown), ', '.join(VRRP_KEYS)))
    out = dict((k, ha.get(k) if ha.get(k) is not None else VRRP_DEFAULTS.get(k)) for k in VRRP_KEYS)
    out['interface'] = _ifname(ha.get('interface'), where + '.interface')
    vrid = ha.get('virtual_router_id')
    if isinstance(vrid, bool) or not isinstance(vrid, int) or not 1 <= vrid <= 255:
        _fail(where + '.virtual_router_id', 'must be an integer from 1 to 255, got %r' % (vrid,))
    if out['version'] not in (2, 3):
        _fail(where + '.version', 'must be 2 or 3, got %r' % (out['version'],))
    advert = _number(out, where, 'advert_int', low=0.01)
    if out['version'] == 2 and advert != int(advert):
        _fail(where + '.advert_int', 'VRRP version 2 adverts in whole seconds, got %g (use version 3)' % advert)
    if advert > 255:
        _fail(where + '.advert_int', 'must be at most 255 seconds, got %g' % advert)
    out['advert_int'] = advert
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 254:
        _fail('director_ha_priority', 'must be an integer from 1 to 254 (255 is reserved for an address owner), '
              'got %r' % (priority,))
    out['priority'] = priority
    if not isinstance(out['preempt'], bool):
        _fail(where + '.preempt', 'must be true or false, got %r' % (out['preempt'],))
    delay = _number(out, where, 'preempt_delay', integer=True)
    if delay > 1000:
        _fail(where + '.preempt_delay', 'must be at most 1000 seconds (keepalived), got %d' % delay)
    if delay and not out['preempt']:
        _fail(where + '.preempt_delay', 'applies only with preempt: true (the default never preempts)')
    out['preempt_delay'] = delay
    for name in ('unicast_peers', 'track_interfaces'):
        if not isinstance(out[name], list):
            _fail('%s.%s' % (where, name), 'must be a list, got %s' % type(out[name]).__name__)
    out['unicast_peers'] = [str(_ip(p, '%s.unicast_peers[%d]' % (where, i))) for i, p in enumerate(out['unicast_peers'])]
    if out['unicast_src_ip'] is not None:
        if not out['unicast_peers']:
            _fail(where + '.unicast_src_ip', 'applies only with unicast_peers')
        out['unicast_src_ip'] = str(_ip(out['unicast_src_ip'], where + '.unicast_src_ip'))
    out['track_interfaces'] = [_ifname(i, '%s.track_interfaces[%d]' % (where, n)) for n, i in enumerate(out['track_interfaces'])]
    auth = out['authentication']
    if auth is not None:
        if not isinstance(auth, dict) or set(auth) - {'type', 'password'} or not auth.get('password'):
            _fail(where + '.authentication', 'must be {type: PASS or AH, password: ...}')
        kind = auth.get('type') or 'PASS'
        if kind not in AUTH_TYPES:
            _fail(where + '.authentication.type', 'must be PASS or AH, got %r' % (kind,))
        if out['version'] != 2:
            _fail(where + '.authentication', 'VRRP version 3 has no authentication (keepalived ignores it): '
                  'set version: 2, or drop it')
        password = auth['password']
        if not isinstance(password, string_types) or len(password) > 8 or any(c in password for c in ' \t\n"#!'):
            # keepalived keeps the first 8 characters of auth_pass
            _fail(where + '.authentication.password', 'must be 1 to 8 characters without spaces, quotes, # or !')
        out['authentication'] = {'type': kind, 'password': password}
    script = out['track_script']
    if script is not None:
        if not isinstance(script, dict) or set(script) - set(TRACK_SCRIPT_KEYS):
            _fail(where + '.track_script', 'must be a dict of %s' % ', '.join(TRACK_SCRIPT_KEYS))
        canon = {'script': _text(script, where + '.track_script', 'script')}
        if not canon['script']:
            _fail(where + '.track_script.script', 'is required (the command whose exit code 0 means healthy)')
        canon['interval'] = _number(dict(script, interval=script.get('interval', 1)), where + '.track_script',
                                    'interval', integer=True, low=1)
        canon['timeout'] = _number(dict(script, timeout=script.get('timeout', canon['interval'])),
                                   where + '.track_script', 'timeout', integer=True, low=1)
        weight = script.get('weight', 0)
        if isinstance(weight, bool) or not isinstance(weight, int) or not -253 <= weight <= 253:
            _fail(where + '.track_script.weight', 'must be an integer from -253 to 253 (0: a failure means FAULT), '
                  'got %r' % (weight,))
        canon['weight'] = weight
        for name in ('fall', 'rise'):
            canon[name] = _number(dict(script, **{name: script.get(name, 1)}), where + '.track_script', name,
                                  integer=True, low=1)
        out['track_script'] = canon
    out['sync_interface'] = _ifname(out['sync_interface'] or out['interface'], where + '.sync_interface')
    sync_id = out['sync_id'] if out['sync_id'] is not None else vrid
    if isinstance(sync_id, bool) or not isinstance(sync_id, int) or not 0 <= sync_id <= 255:
        _fail(where + '.sync_id', 'must be an integer from 0 to 255, got %r' % (sync_id,))
    out['sync_id'] = sync_id
    out['garp_master_refresh'] = _number(out, where, 'garp_master_refresh', integer=True)
    if not isinstance(out['group'], string_types) or not out['group']:
        _fail(where + '.group', 'must be the name of the inventory group of the directors that share the VIPs')
    addresses = []
    for index, vip in enumerate(vips or []):
        at = 'director_vips[%d]' % index
        address = _ip(vip.get('address'), at + '.address')
        interface = _ifname(vip.get('interface'), at + '.interface')
        prefix = vip.get('prefix') or (32 if address.version == 4 else 128)
        if networks is not None:
            own = [net for net in networks.get(interface, []) if net.version == address.version]
            if not any(address in net.network for net in own):
                _fail(at, '%s is not on the network of %s (%s): VRRP can only move an address within the network '
                      'of its interface, where the peers and clients learn it from a gratuitous ARP'
                      % (address, interface, ', '.join(str(net.network) for net in own) or 'no address'))
        addresses.append({'address': str(address), 'interface': interface, 'prefix': int(prefix)})
    if not addresses:
        _fail('director_vips', 'director_ha needs at least one VIP for VRRP to hold')
    out['vips'] = addresses
    out['virtual_router_id'] = vrid
    out['name'] = 'lvs_cluster_%d' % vrid
    return out


def render_vrrp(vrrp):
    """(global_defs lines, top-level block lines) of a build_vrrp record. The sync daemons are not
    keepalived's (sync_daemon_argv): keepalived 2.2.7 started none for lvs_sync_daemon without an
    instance (measured on the lab's Debian 12), and with one it runs only the daemon of its state."""
    glob = []
    if vrrp['garp_master_refresh']:
        glob.append('vrrp_garp_master_refresh %d' % vrrp['garp_master_refresh'])
    lines = []
    script = vrrp['track_script']
    if script:
        lines += ['vrrp_script %s_check {' % vrrp['name'], '    script %s' % _quoted(script['script'])]
        lines += ['    %s %d' % (k, script[k]) for k in ('interval', 'timeout', 'weight', 'fall', 'rise')] + ['}', '']
    # Both start BACKUP: nopreempt and preempt_delay only work from BACKUP, and the one with the
    # highest priority becomes master after one Master_Down_Interval.
    body = ['state BACKUP', 'interface %s' % vrrp['interface'], 'virtual_router_id %d' % vrrp['virtual_router_id'],
            'priority %d' % vrrp['priority'], 'advert_int %s' % _num(vrrp['advert_int']), 'version %d' % vrrp['version']]
    if not vrrp['preempt']:
        body.append('nopreempt')
    elif vrrp['preempt_delay']:
        body.append('preempt_delay %d' % vrrp['preempt_delay'])
    if vrrp['unicast_peers']:
        if vrrp['unicast_src_ip']:
            body.append('unicast_src_ip %s' % vrrp['unicast_src_ip'])
        body += ['unicast_peer {'] + ['    %s' % p for p in vrrp['unicast_peers']] + ['}']
    if vrrp['authentication']:
        auth = vrrp['authentication']
        body += ['authentication {', '    auth_type %s' % auth['type'], '    auth_pass %s' % auth['password'], '}']
    if vrrp['track_interfaces']:
        body += ['track_interface {'] + ['    %s' % i for i in vrrp['track_interfaces']] + ['}']
    if script:
        body += ['track_script {', '    %s_check' % vrrp['name'], '}']
    body += ['virtual_ipaddress {']
    body += ['    %s/%d dev %s' % (v['address'], v['prefix'], v['interface']) for v in vrrp['vips']] + ['}']
    lines += ['vrrp_instance %s {' % vrrp['name']] + ['    ' + line for line in body] + ['}']
    return glob, lines


def sync_daemon_argv(vrrp):
    """The ipvsadm commands that start both sync daemons of a build_vrrp record, and the lines
    "ipvsadm -L --daemon" starts with when they run. Both run on every director: the master daemon sends
    the connections this director schedules, the backup daemon receives the peer's, so connections
    survive a failover and a failback alike. The kernel needs the interface given (measured)."""
    start = [['ipvsadm', '--start-daemon', state, '--mcast-interface', vrrp['sync_interface'],
              '--syncid', str(vrrp['sync_id'])] for state in ('master', 'backup')]
    # ipvsadm 1.31 goes on with ", maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"
    running = ['%s sync daemon (mcast=%s, syncid=%d,' % (state, vrrp['sync_interface'], vrrp['sync_id'])
               for state in ('master', 'backup')]
    return start, running
