"""A fake IPVS kernel behind ipvsadm, for running the modules' main() with only run_command replaced.

It keeps a table, answers -S -n, -L -n (--thresholds, --stats --exact, --rate --exact, --timeout,
--daemon) in ipvsadm's formats, executes -R batches line by line like ipvsadm 1.31 (kernel errors go
to stderr and processing continues; rc is the last line's), and modprobe. Module-file paths are
real files under a temporary directory so that the modules' /proc and /sys checks work unchanged.
"""

import copy
import os

from ansible_collections.lvs.cluster.plugins.module_utils import _ipvs_model as M
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_parse import parse_rule

AVAILABLE_SCHEDULERS = set(M.SCHEDULERS) - {'twos'}


class FakeKernel(object):

    def __init__(self, tmpdir, rules='', loaded=True):
        self.proc = os.path.join(str(tmpdir), 'proc_ip_vs')
        self.sys = os.path.join(str(tmpdir), 'sys_module')
        os.makedirs(self.sys)
        self.table = {}
        self.calls = []
        if loaded:
            self._modprobe('ip_vs')
        if rules:
            rc, out, err = self._restore(rules)
            assert rc == 0 and not err, err

    # ---- helpers ----
    def _modprobe(self, name):
        if name == 'ip_vs':
            open(self.proc, 'w').close()
        elif name.startswith('ip_vs_') and name[6:] not in AVAILABLE_SCHEDULERS and name != 'ip_vs_pe_sip':
            return 1, '', 'modprobe: FATAL: Module %s not found in directory /lib/modules/6.1.0-56-amd64\n' % name
        os.makedirs(os.path.join(self.sys, name), exist_ok=True)
        return 0, '', ''

    def rules(self):
        """The table as -R lines including thresholds (what a byte-identical check compares)."""
        lines = []
        for key in M.sorted_keys(self.table):
            svc = self.table[key]
            lines.append(' '.join(M.service_line('-A', svc)))
            for dkey in M.sorted_keys(svc['real_servers']):
                lines.append(' '.join(M.dest_line('-a', svc, svc['real_servers'][dkey])))
        return lines

    def _save(self):
        out = []
        for line in self.rules():
            tokens = line.split()
            for opt in ('-x', '-y'):     # -S never writes thresholds
                if opt in tokens:
                    i = tokens.index(opt)
                    del tokens[i:i + 2]
            out.append(' '.join(tokens))
        return ''.join(line + '\n' for line in out)

    def _listing(self, mode, only=None):
        head = {'--thresholds': 'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n',
                '--stats': 'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n',
                '--rate': 'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n'}[mode]
        out = ['IP Virtual Server version 1.2.1 (size=4096)\n', head, '  -> RemoteAddress:Port\n']
        for key in M.sorted_keys(self.table):
            if only is not None and key != only:
                continue
            svc = self.table[key]
            if svc['fwmark']:
                name = 'FWM  %d%s' % (svc['fwmark'], ' IPv6' if svc['family'] == 'ipv6' else '')
            else:
                name = '%-4s %s' % (svc['protocol'].upper(), M.endpoint(svc['address'], svc['port']))
            if mode == '--thresholds':
                out.append('%s %s\n' % (name, svc['scheduler']))
            else:
                out.append('%-33s %8d %8d %8d %8d %8d\n' % (name, 5, 50, 40, 5000, 4000))
            for dkey in M.sorted_keys(svc['real_servers']):
                d = svc['real_servers'][dkey]
                ep = M.endpoint(d['address'], d['port'])
                if mode == '--thresholds':
                    active, inactive = d.get('_conns', (0, 0))
                    out.append('  -> %-28s %-10d %-10d %-10d %-10d\n' % (ep, d['upper_threshold'], d['lower_threshold'], active, inactive))
                else:
                    out.append('  -> %-28s %8d %8d %8d %8d %8d\n' % (ep, 1, 10, 8, 1000, 800))
        return ''.join(out)

    def _apply(self, line):
        cmd, svc, dest = parse_rule(line)
        key = M.service_key(svc)
        cur = self.table.get(key)
        if cmd == '-A':
            if cur is not None:
                return 'Service already exists'
            if svc['scheduler'] not in AVAILABLE_SCHEDULERS:
                return 'Scheduler or persistence engine not found'
            self.table[key] = svc
        elif cmd == '-E':
            if cur is None:
                return 'No such service'
            if svc['scheduler'] not in AVAILABLE_SCHEDULERS:
                return 'Scheduler or persistence engine not found'
            svc['real_servers'] = cur['real_servers']
            self.table[key] = svc
        elif cmd == '-D':
            if cur is None:
                return 'No such service'
            del self.table[key]
        else:
            if cur is None:
                return 'Service not defined'
            if dest['lower_threshold'] > dest['upper_threshold']:
                return 'Numerical result out of range'
            dkey = M.dest_key(dest)
            exists = dkey in cur['real_servers']
            if cmd == '-a' and exists:
                return 'Destination already exists'
            if cmd in ('-e', '-d') and not exists:
                return 'No such destination'
            if cmd == '-d':
                del cur['real_servers'][dkey]
            else:
                cur['real_servers'][dkey] = dest
        return None

    def _restore(self, data):
        errors, rc = [], 0
        for line in data.splitlines():
            if not line.strip():
                continue
            if line.lstrip().startswith('#'):
                return 255, '', "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"
            error = self._apply(line)
            rc = 255 if error else 0
            if error:
                errors.append(error + '\n')
        return rc, '', ''.join(errors)

    # ---- the replacement of AnsibleModule.run_command ----
    def run_command(self, args, data=None, environ_update=None, binary_data=False, **kwargs):
        assert isinstance(args, list), 'argv lists only, never shell strings'
        assert environ_update and environ_update.get('LC_ALL') == 'C'
        self.calls.append([os.path.basename(args[0])] + args[1:])
        name, argv = os.path.basename(args[0]), args[1:]
        if name == 'modprobe':
            return self._modprobe(argv[0])
        assert name == 'ipvsadm'
        if not os.path.exists(self.proc):
            return 2, '', "Can't initialize ipvs: Protocol not available\n"
        if argv == ['-S', '-n']:
            return 0, self._save(), ''
        if argv == ['-R']:
            before = copy.deepcopy(self.table)
            result = self._restore(data or '')
            self.last_restore = (before, data)
            return result
        if argv[:2] == ['-L', '-n']:
            rest = argv[2:]
            if rest == ['--timeout']:
                return 0, 'Timeout (tcp tcpfin udp): 900 120 300\n', ''
            if rest == ['--daemon']:
                return 0, '', ''
            mode = rest[0]
            only = None
            sel = [t for t in rest[1:] if t != '--exact']
            if sel:
                only = M.service_key(parse_rule(' '.join(['-A'] + sel))[1])
            return 0, self._listing(mode, only), ''
        raise AssertionError('unexpected ipvsadm call %r' % args)
