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


def render_config(checked, script_user='keepalived_script', header='', extra_global=()):
    """The whole keepalived.conf for the checked services (records of split_services)."""
    lines = [header] if header else []
    lines += ['global_defs {', '    enable_script_security', '    script_user %s' % script_user]
    lines += ['    ' + line for line in extra_global] + ['}']
    keyed = dict(((svc['protocol'] or '', svc['address'] or '', svc['port'] or 0, svc['fwmark'] or 0), svc)
                 for svc in checked)
    for key in sorted_keys(keyed):
        lines.append('')
        lines += render_virtual_server(keyed[key])
    return '\n'.join(lines) + '\n'
