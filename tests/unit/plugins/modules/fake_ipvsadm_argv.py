"""ipvsadm's command line as the fake kernel reads it: options, per-command rules, defaults.

Written from ipvsadm 1.31's documented behaviour (domain reference, sections 1.2 to 1.7) and what
ipvsadm 1.31 did in the lab (the messages below are its own), importing nothing from plugins/: a
module that writes a wrong argv is refused here, or read with ipvsadm's meaning, never with the
module's. The fake is stricter where ipvsadm silently guesses (host and service names, inet_aton
masks such as '-M 64' or '-M 1.2.3', '--opt=value'): the modules never need those.
"""

import ipaddress

INT_MAX = 2147483647
MAX_TIMEOUT = 2678400           # 31 days
DEFAULT_PERSISTENCE = 360       # '-p' without a value (IPVS_SVC_PERSISTENT_TIMEOUT)

COMMANDS = {
    '-A': 'add-service', '--add-service': 'add-service', '-E': 'edit-service', '--edit-service': 'edit-service',
    '-D': 'delete-service', '--delete-service': 'delete-service', '-C': 'clear', '--clear': 'clear',
    '-R': 'restore', '--restore': 'restore', '-S': 'save', '--save': 'save',
    '-a': 'add-server', '--add-server': 'add-server', '-e': 'edit-server', '--edit-server': 'edit-server',
    '-d': 'delete-server', '--delete-server': 'delete-server', '-L': 'list', '-l': 'list', '--list': 'list',
    '-Z': 'zero', '--zero': 'zero',
}

# spelling -> (ipvsadm's name of the option, arity: 0, 1 or '?' for an optional value)
OPTIONS = {
    '-t': ('service-address', 1), '--tcp-service': ('service-address', 1), '-u': ('service-address', 1),
    '--udp-service': ('service-address', 1), '--sctp-service': ('service-address', 1),
    '-f': ('service-address', 1), '--fwmark-service': ('service-address', 1), '-6': ('ipv6', 0), '--ipv6': ('ipv6', 0),
    '-s': ('scheduler', 1), '--scheduler': ('scheduler', 1), '-p': ('persistent', '?'), '--persistent': ('persistent', '?'),
    '-M': ('netmask', 1), '--netmask': ('netmask', 1), '--pe': ('pe', 1), '-b': ('sched-flags', 1),
    '--sched-flags': ('sched-flags', 1), '-o': ('ops', 0), '--ops': ('ops', 0),
    '-r': ('real-server', 1), '--real-server': ('real-server', 1),
    '-g': ('forwarding-method', 0), '--gatewaying': ('forwarding-method', 0), '-i': ('forwarding-method', 0),
    '--ipip': ('forwarding-method', 0), '-m': ('forwarding-method', 0), '--masquerading': ('forwarding-method', 0),
    '-w': ('weight', 1), '--weight': ('weight', 1), '-x': ('u-threshold', 1), '--u-threshold': ('u-threshold', 1),
    '-y': ('l-threshold', 1), '--l-threshold': ('l-threshold', 1),
    '--tun-type': ('tun-type', 1), '--tun-port': ('tun-port', 1),
    '--tun-nocsum': ('tun-nocsum', 0), '--tun-csum': ('tun-csum', 0), '--tun-remcsum': ('tun-remcsum', 0),
    '-n': ('numeric', 0), '--numeric': ('numeric', 0), '-X': ('exact', 0), '--exact': ('exact', 0),
    '-c': ('connection', 0), '--connection': ('connection', 0), '--timeout': ('timeout', 0), '--daemon': ('daemon', 0),
    '--stats': ('stats', 0), '--rate': ('rate', 0), '--thresholds': ('thresholds', 0),
    '--persistent-conn': ('persistent-conn', 0), '--tun-info': ('tun-info', 0), '--sort': ('sort', 0),
    '--nosort': ('nosort', 0),
}

_CHECKSUMS = ('tun-nocsum', 'tun-csum', 'tun-remcsum')
_SERVICE_OPTS = {'scheduler', 'persistent', 'netmask', 'pe', 'sched-flags', 'ops'}
_SERVER_OPTS = {'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'tun-type', 'tun-port'} | set(_CHECKSUMS)
_LIST_OPTS = {'numeric', 'exact', 'connection', 'timeout', 'daemon', 'stats', 'rate', 'thresholds',
              'persistent-conn', 'tun-info', 'sort', 'nosort'}
# command -> (options it accepts besides the service, options it requires)
RULES = {
    'add-service': (_SERVICE_OPTS, ('service-address',)),
    'edit-service': (_SERVICE_OPTS, ('service-address',)),
    'delete-service': (set(), ('service-address',)),
    'add-server': (_SERVER_OPTS | {'real-server'}, ('service-address', 'real-server')),
    'edit-server': (_SERVER_OPTS | {'real-server'}, ('service-address', 'real-server')),
    'delete-server': ({'real-server'}, ('service-address', 'real-server')),
    'list': (_LIST_OPTS, ()),
    'save': ({'numeric'}, ()),
    'zero': (set(), ()),
    'clear': (set(), ()),
    'restore': (set(), ()),
}
_NO_SERVICE = {'save', 'clear', 'restore'}

PROTOCOLS = {'-t': 'TCP', '--tcp-service': 'TCP', '-u': 'UDP', '--udp-service': 'UDP', '--sctp-service': 'SCTP'}
FORWARD = {'-g': 'Route', '--gatewaying': 'Route', '-i': 'Tunnel', '--ipip': 'Tunnel',
           '-m': 'Masq', '--masquerading': 'Masq'}
SCHED_FLAG_BITS = {'flag-1': 1, 'flag-2': 2, 'flag-3': 3, 'sh-fallback': 1, 'sh-port': 2, 'mh-fallback': 1, 'mh-port': 2}


class Usage(Exception):
    """ipvsadm's fail(2, ...): a wrong command line; inside -R it ends the batch (exit 2)."""


class PoptError(Exception):
    """popt cannot read the line (unknown option, missing value): exit 255, and -R goes on."""


def parse(argv):
    """argv (without 'ipvsadm') -> (command name, {option name: value}, {option name: spelling})."""
    cmd, opts, spelled, family = None, {}, {}, None
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in COMMANDS:
            if cmd is not None:
                raise Usage("invalid option `%s'" % tok)
            cmd = COMMANDS[tok]
        elif tok in OPTIONS:
            name, arity = OPTIONS[tok]
            if name in opts:
                raise Usage("multiple '%s' options specified" % name)
            value = True
            if arity == 1:
                if i + 1 >= len(argv):
                    raise PoptError('%s: missing argument' % tok)
                value = argv[i + 1]
                i += 1
            elif arity == '?' and i + 1 < len(argv) and not argv[i + 1].startswith('-'):
                value = argv[i + 1]
                i += 1
            if name == 'service-address':
                family = 'inet' if tok in ('-f', '--fwmark-service') else endpoint(value)[0]
            elif name == 'ipv6':
                if spelled.get('service-address') not in ('-f', '--fwmark-service'):
                    raise Usage('-6 used before -f')
                family = 'inet6'
            elif name == 'netmask':
                # ipvsadm reads -M with the family seen so far: an IPv6 prefix given first is an IPv4 mask
                if family is None:
                    raise Usage('the fake reads -M only after the virtual service')
                value = (family, value)
            opts[name], spelled[name] = value, tok
        elif tok.startswith('-') and '=' in tok:
            raise Usage('the fake does not read %r: give the value as the next argument' % tok)
        elif tok.startswith('-'):
            raise PoptError('%s: unknown option' % tok)
        else:
            raise Usage('unexpected argument %s' % tok)
        i += 1
    if cmd is None:
        raise Usage('no command specified')
    allowed, required = RULES[cmd]
    for name in opts:
        if name in ('service-address', 'ipv6') and cmd not in _NO_SERVICE:
            continue
        if name not in allowed:
            raise Usage("Illegal '%s' option with the '%s' command" % (name, cmd))
    for name in required:
        if name not in opts:
            raise Usage("You need to supply the '%s' option for the '%s' command" % (name, cmd))
    return cmd, opts, spelled


def _port(text):
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise Usage('illegal port %r (the fake reads numbers only)' % text)
    return int(text)


def endpoint(text):
    """'a.b.c.d[:port]', '[v6][:port]' or a bare IPv6 literal -> (family, ip_address, port or None)."""
    host, port = text, None
    if text.startswith('['):
        host, sep, rest = text[1:].partition(']')
        if not sep or (rest and not rest.startswith(':')):
            raise Usage('illegal address %r' % text)
        port = _port(rest[1:]) if rest else None
    elif text.count(':') == 1:          # more colons: a bare IPv6 address, all of it (no port)
        host, port = text.split(':')[0], _port(text.split(':')[1])
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise Usage('illegal address %r (the fake reads literals only)' % text)
    return ('inet6' if addr.version == 6 else 'inet'), addr, port


def selector(opts, spelled):
    """The virtual service an argv names: {'fwmark', 'family', 'protocol', 'address', 'port'}."""
    value, tok = opts['service-address'], spelled['service-address']
    if tok in ('-f', '--fwmark-service'):
        if not value.isdigit() or not 0 < int(value) <= 4294967295:
            raise Usage("invalid fwmark value `%s' specified" % value)
        return {'fwmark': int(value), 'family': 'inet6' if 'ipv6' in opts else 'inet',
                'protocol': None, 'address': None, 'port': 0}
    family, addr, port = endpoint(value)
    return {'fwmark': 0, 'family': family, 'protocol': PROTOCOLS[tok], 'address': addr, 'port': port or 0}


def service_entry(opts, spelled):
    """-A/-E: the complete service ipvsadm sends (every field; what is omitted gets its default)."""
    svc = selector(opts, spelled)
    svc['scheduler'] = opts.get('scheduler', 'wlc')
    svc['persistent'] = 'persistent' in opts
    svc['timeout'] = 0
    if svc['persistent']:
        value = opts['persistent']
        svc['timeout'] = DEFAULT_PERSISTENCE if value is True else _int(
            value, 1, MAX_TIMEOUT, "invalid timeout value `%s' specified" % value)
    svc['netmask'] = '255.255.255.255' if svc['family'] == 'inet' else 128
    if 'netmask' in opts:
        family, text = opts['netmask']
        if family == 'inet':
            try:
                svc['netmask'] = str(ipaddress.IPv4Address(text))
            except ValueError:
                raise Usage('the fake reads dotted IPv4 masks only, not %r' % text)
        else:
            svc['netmask'] = _int(text, 1, 128, 'illegal ipv6 netmask specified')
    svc['pe'] = opts.get('pe')
    svc['ops'] = 'ops' in opts
    if svc['ops'] and svc['protocol'] != 'UDP' and not svc['fwmark']:
        raise Usage('One-Packet Scheduling is only for UDP virtual services')
    if not svc['fwmark'] and svc['port'] == 0 and not svc['persistent']:
        raise Usage('Zero port specified for non-persistent service')
    svc['flags'] = set()
    for name in opts['sched-flags'].split(',') if 'sched-flags' in opts else ():
        if name not in SCHED_FLAG_BITS:
            raise Usage("invalid scheduler flag `%s'" % name)
        if name[:3] in ('sh-', 'mh-') and name[:2] != svc['scheduler']:
            raise Usage("incompatible scheduler flag `%s'" % name)
        svc['flags'].add(SCHED_FLAG_BITS[name])
    return svc


def server_entry(svc, opts, spelled, delete=False):
    """-a/-e: the complete real server ipvsadm sends for service svc; -d (delete): its address and port."""
    family, addr, port = endpoint(opts['real-server'])
    forward = FORWARD.get(spelled.get('forwarding-method'), 'Route')
    # no port means the service's; -a/-e force DR and TUN to it unless the service is a fwmark
    if port is None or (not delete and not svc['fwmark'] and forward in ('Route', 'Tunnel')):
        port = svc['port']
    dest = {'family': family, 'address': addr, 'port': port}
    if delete:
        return dest
    dest['forward'] = forward
    dest['weight'] = _int(opts.get('weight', '1'), 0, INT_MAX, 'illegal weight specified')   # 65536 passes
    dest['u_threshold'] = _int(opts.get('u-threshold', '0'), 0, INT_MAX, 'illegal u_threshold specified')
    dest['l_threshold'] = _int(opts.get('l-threshold', '0'), 0, INT_MAX, 'illegal l_threshold specified')
    if family != svc['family'] and forward != 'Tunnel':
        raise Usage('Different address family is allowed only for tunneling servers')
    dest['tun_type'] = dest['tun_port'] = dest['tun_checksum'] = None
    checksums = [name for name in _CHECKSUMS if name in opts]
    if forward != 'Tunnel':
        if set(opts) & ({'tun-type', 'tun-port'} | set(_CHECKSUMS)):
            raise Usage('Tunnel options conflict with forward method')
        return dest
    tun_type = opts.get('tun-type', 'ipip')
    if tun_type not in ('ipip', 'gue', 'gre'):
        raise Usage('illegal tunnel type specified')
    illegal = {'ipip': ['tun-port'] + checksums, 'gre': ['tun-port', 'tun-remcsum'], 'gue': []}[tun_type]
    for name in illegal:
        if name in opts:
            raise Usage("Illegal '%s' option with the '%s' tunnel type" % (name, tun_type))
    if len(checksums) > 1:
        raise Usage("The option '%s' conflicts with the '%s' option in the '%s' tunnel type"
                    % (checksums[1], checksums[0], tun_type))
    if tun_type == 'gue':
        if 'tun-port' not in opts:
            raise Usage("You need to supply the 'tun-port' option for the 'gue' tunnel type")
        dest['tun_port'] = _int(opts['tun-port'], 1, 65535, 'illegal tunnel port specified')
    dest['tun_type'] = tun_type
    if tun_type != 'ipip':
        dest['tun_checksum'] = checksums[0][4:] if checksums else 'nocsum'
    return dest


def _int(text, low, high, message):
    if not str(text).isdigit() or not low <= int(text) <= high:
        raise Usage(message)
    return int(text)
