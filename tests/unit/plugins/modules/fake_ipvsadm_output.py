"""What ipvsadm 1.31 prints for the fake kernel's table: -S -n and the -L -n listings.

Formats are ipvsadm's printf formats (domain reference, sections 1.8 and 1.9), checked byte for
byte against the kernel's own output in tests/unit/fixtures/ipvsadm (test_fake_ipvsadm.py).
Services are records of fake_ipvsadm_argv.service_entry() with a 'dests' dict.
"""

HEADER = 'IP Virtual Server version 1.2.1 (size=4096)\n'
TITLES = {
    None: ('Prot LocalAddress:Port Scheduler Flags\n'
           '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'),
    'thresholds': ('Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n'
                   '  -> RemoteAddress:Port\n'),
    'stats': ('Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n'
              '  -> RemoteAddress:Port\n'),
    'rate': ('Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n'
             '  -> RemoteAddress:Port\n'),
    'tun-info': ('Prot LocalAddress:Port Scheduler Flags\n'
                 '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n'),
}
_PROTO_OPT = {'TCP': '-t', 'UDP': '-u', 'SCTP': '--sctp-service'}
_PROTO_NUMBER = {None: 0, 'TCP': 6, 'UDP': 17, 'SCTP': 132}
_FAMILY_NUMBER = {'inet': 2, 'inet6': 10}
_FORWARD_OPT = {'Route': '-g', 'Local': '-g', 'Tunnel': '-i', 'Masq': '-m'}
# ipvsadm prints no name for bit 3 of sh and mh: '-s sh -b flag-3' is saved as '-b ' and listed as 'sh ()'
_FLAG_NAMES = {'sh': ('sh-fallback', 'sh-port', None), 'mh': ('mh-fallback', 'mh-port', None)}
_CHECKSUM_INFO = {'nocsum': '-c', 'csum': '+c', 'remcsum': 'r+c'}


def endpoint(address, port):
    return ('[%s]:%d' if address.version == 6 else '%s:%d') % (address.compressed, port)


def _service_order(svc):
    return (svc['fwmark'], _FAMILY_NUMBER[svc['family']], _PROTO_NUMBER[svc['protocol']],
            int(svc['address'] or 0), svc['port'])


def _dest_order(dest):
    return (_FAMILY_NUMBER[dest['family']], int(dest['address']), dest['port'])


# ipvsadm sorts services by fwmark, family, protocol, address, port, and real servers by address and
# port. Its comparators subtract addresses as 32-bit ints, so addresses 2^31 or more apart (10.x and
# 192.x) and real servers of both families come out in an order that depends on the kernel's hash order
# (seen in the lab). The fake sorts by value: the kernel's order for closer addresses (every fixture),
# and the modules never depend on the order.
def sorted_services(services):
    return sorted(services, key=_service_order)


def sorted_dests(dests):
    return sorted(dests, key=_dest_order)


# ---- -S -n (and the fake's -R form of a table) ----

def selector_args(svc):
    if svc['fwmark']:
        return '-f %d%s' % (svc['fwmark'], ' -6' if svc['family'] == 'inet6' else '')
    return '%s %s' % (_PROTO_OPT[svc['protocol']], endpoint(svc['address'], svc['port']))


def _flag_names(svc):
    names = _FLAG_NAMES.get(svc['scheduler'], ('flag-1', 'flag-2', 'flag-3'))
    return ','.join(names[bit - 1] for bit in sorted(svc['flags']) if names[bit - 1])


def _default_netmask(svc):
    return '255.255.255.255' if svc['family'] == 'inet' else 128


def save_service(svc):
    line = '-A %s -s %s' % (selector_args(svc), svc['scheduler'])
    if svc['persistent']:
        line += ' -p %d' % svc['timeout']
        if svc['netmask'] != _default_netmask(svc):
            line += ' -M %s' % svc['netmask']
    if svc['pe']:
        line += ' --pe %s' % svc['pe']
    if svc['ops']:
        line += ' -o'
    if svc['flags']:
        line += ' -b ' + _flag_names(svc)
    return line


def save_dest(svc, dest, thresholds=False):
    """One -a line; with thresholds, -x/-y follow -w (ipvsadm -S never writes them)."""
    line = '-a %s -r %s %s -w %d' % (
        selector_args(svc), endpoint(dest['address'], dest['port']), _FORWARD_OPT[dest['forward']], dest['weight'])
    if thresholds and dest['u_threshold']:
        line += ' -x %d' % dest['u_threshold']
    if thresholds and dest['l_threshold']:
        line += ' -y %d' % dest['l_threshold']
    if dest['forward'] == 'Tunnel':
        line += ' --tun-type %s' % dest['tun_type']
        if dest['tun_type'] == 'gue':
            line += ' --tun-port %d' % dest['tun_port']
        if dest['tun_type'] != 'ipip':
            line += ' --tun-%s' % dest['tun_checksum']
    return line


def save(services, thresholds=False):
    """Lines of 'ipvsadm -S -n' (thresholds=True: the same plus -x/-y, a complete -R input)."""
    lines = []
    for svc in sorted_services(services):
        lines.append(save_service(svc))
        lines.extend(save_dest(svc, d, thresholds) for d in sorted_dests(svc['dests'].values()))
    return lines


# ---- -L -n ----

def _service_name(svc):
    if svc['fwmark']:
        return 'FWM  %d%s' % (svc['fwmark'], ' IPv6' if svc['family'] == 'inet6' else '')
    return '%-4s %s' % (svc['protocol'], endpoint(svc['address'], svc['port']))


def _service_settings(svc):
    text = ' ' + svc['scheduler']
    if svc['flags']:
        text += ' (%s)' % _flag_names(svc)
    if svc['persistent']:
        text += ' persistent %d' % svc['timeout']
        if svc['netmask'] != _default_netmask(svc):
            text += ' mask %s' % svc['netmask']
        if svc['pe']:
            text += ' pe %s' % svc['pe']
    if svc['ops']:
        text += ' ops'
    return text


def largenum(value, exact):
    """ipvsadm print_largenum(): K/M/G/T above 10^8 unless --exact."""
    if exact:
        return '%*d' % (9 if len(str(value)) <= 8 else len(str(value)) + 1, value)
    for limit, divisor, unit in ((10 ** 8, 1, ''), (10 ** 9, 10 ** 3, 'K'), (10 ** 11, 10 ** 6, 'M'),
                                 (10 ** 14, 10 ** 9, 'G')):
        if value < limit:
            return '%9d' % value if not unit else '%8d%s' % (value // divisor, unit)
    return '%8dT' % (value // 10 ** 12)


def _tunnel_info(dest):
    if dest['forward'] != 'Tunnel':
        return 'n/a'
    if dest['tun_type'] == 'gue':
        return 'gue:%d:%s' % (dest['tun_port'], _CHECKSUM_INFO[dest['tun_checksum']])
    if dest['tun_type'] == 'gre':
        return 'gre:%s' % _CHECKSUM_INFO[dest['tun_checksum']]
    return 'ipip'


def _dest_line(dest, variant, exact):
    ep = endpoint(dest['address'], dest['port'])
    if variant == 'thresholds':
        return '  -> %-28s %-10d %-10d %-10d %-10d' % (ep, dest['u_threshold'], dest['l_threshold'],
                                                       dest['active'], dest['inactive'])
    if variant in ('stats', 'rate'):
        return '  -> %-28s' % ep + ''.join(largenum(v, exact) for v in dest[variant])
    if variant == 'tun-info':
        return '  -> %-28s %-7s %-13s %-6d %-10d %-10d' % (
            ep, dest['forward'], _tunnel_info(dest), dest['weight'], dest['active'], dest['inactive'])
    return '  -> %-28s %-7s %-6d %-10d %-10d' % (ep, dest['forward'], dest['weight'], dest['active'], dest['inactive'])


def listing(services, variant=None, exact=False, single=False):
    """'ipvsadm -L -n [--thresholds|--stats|--rate|--tun-info] [-X]' of services; single: one service named."""
    out = [] if single else [HEADER]
    out.append(TITLES[variant])
    for svc in sorted_services(services):
        if variant in ('stats', 'rate'):
            out.append('%-33s' % _service_name(svc) + ''.join(largenum(v, exact) for v in svc[variant]) + '\n')
        else:
            out.append(_service_name(svc) + _service_settings(svc) + '\n')
        out.extend(_dest_line(d, variant, exact) + '\n' for d in sorted_dests(svc['dests'].values()))
    return ''.join(out)
