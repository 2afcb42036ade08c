"""A fake IPVS kernel behind ipvsadm, for running the modules' main() with only run_command replaced.

It keeps a table and answers ipvsadm the way ipvsadm 1.31 on the lab kernel does, with its own
grammar (fake_ipvsadm_argv) and its own output (fake_ipvsadm_output), nothing from plugins/:
-S -n, -L -n (--thresholds, --stats, --rate, --tun-info, --timeout, --daemon; one service or all),
-R batches line by line, -Z (all services or one), and modprobe. In -R a usage error ends the batch (rc 2), while a kernel
error or a line popt cannot read goes to stderr and the batch goes on; rc is the last line's.
Module-file paths are real files under a temporary directory so that the modules' /proc and /sys
checks work unchanged.
"""

import os

from fake_ipvsadm_argv import PoptError, Usage, parse, selector, server_entry, service_entry
from fake_ipvsadm_output import listing, save

# the schedulers of the lab kernel (6.1 has no ip_vs_twos)
AVAILABLE_SCHEDULERS = {'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'}
AVAILABLE_PES = {'sip'}
# counters of every service and real server: one distinct value per column, and bytes_in above 10^8
# so that a listing without --exact prints '123456K' and cannot be read as a number
STATS = ((5, 50, 40, 123456789, 4000), (1, 10, 8, 1000, 800))
RATES = ((6, 60, 30, 4800, 2400), (2, 20, 10, 1600, 800))
TIMEOUT = 'Timeout (tcp tcpfin udp): 900 120 300\n'
USAGE_RC = 2
KERNEL_ERROR_RC = 255           # also popt's errors


def _key(svc):
    return (svc['fwmark'], svc['family'], svc['protocol'], svc['address'], svc['port'])


def _dest_key(dest):
    return (dest['family'], dest['address'], dest['port'])


class FakeKernel(object):

    def __init__(self, tmpdir, rules='', loaded=True, stats=STATS, rates=RATES):
        self.proc = os.path.join(str(tmpdir), 'proc_ip_vs')
        self.sys = os.path.join(str(tmpdir), 'sys_module')
        os.makedirs(self.sys)
        self.services = {}
        self.calls = []
        self.restores = []          # the stdin of every -R, in order
        self.counters = {'stats': stats, 'rate': rates}
        self.zeroed = set()         # keys of services whose counters -Z zeroed (with their real servers')
        if loaded:
            self._modprobe('ip_vs')
        if rules:
            rc, out, err = self._restore(rules)
            assert rc == 0 and not err, err

    def set_connections(self, service, server, active, inactive):
        """Connection counts of one real server, named as on ipvsadm's command line ('-t VIP:80', '10.0.0.1:80')."""
        cmd, opts, spelled = parse(['-d'] + service.split() + ['-r', server])
        svc = self.services[_key(selector(opts, spelled))]
        dest = svc['dests'][_dest_key(server_entry(svc, opts, spelled, delete=True))]
        dest['active'], dest['inactive'] = active, inactive

    def rules(self):
        """The table as -R lines in ipvsadm -S -n order and form, plus -x/-y (which -S drops)."""
        return save(self.services.values(), thresholds=True)

    # ---- the kernel ----
    def _modprobe(self, name):
        if name == 'ip_vs':
            open(self.proc, 'w').close()
        elif name[6:] not in AVAILABLE_SCHEDULERS and name[9:] not in AVAILABLE_PES:
            return 1, '', 'modprobe: FATAL: Module %s not found in directory /lib/modules/6.1.0-56-amd64\n' % name
        os.makedirs(os.path.join(self.sys, name), exist_ok=True)
        return 0, '', ''

    def _with_counters(self, svc):
        if _key(svc) in self.zeroed:
            stats = rates = ((0,) * 5, (0,) * 5)
        else:
            stats, rates = self.counters['stats'], self.counters['rate']
        svc = dict(svc, stats=stats[0], rate=rates[0])
        svc['dests'] = dict((k, dict(d, stats=stats[1], rate=rates[1])) for k, d in svc['dests'].items())
        return svc

    def _zero(self, opts, spelled):
        """-Z: zero the counters (and rates) of one service and its real servers, or of all."""
        if 'service-address' not in opts:
            self.zeroed.update(self.services)
            return 0, '', ''
        key = _key(selector(opts, spelled))
        if key not in self.services:
            return KERNEL_ERROR_RC, '', 'No such service\n'
        self.zeroed.add(key)
        return 0, '', ''

    def _execute(self, argv):
        """One table command (a -R line); returns the kernel's error message or None."""
        cmd, opts, spelled = parse(argv)
        if cmd in ('add-service', 'edit-service'):
            svc = service_entry(opts, spelled)
        elif cmd in ('delete-service', 'add-server', 'edit-server', 'delete-server'):
            svc = selector(opts, spelled)
        else:
            raise Usage('the fake runs only -A -E -D -a -e -d inside -R, not %s' % cmd)
        key = _key(svc)
        cur = self.services.get(key)
        if cmd in ('add-service', 'edit-service'):
            if cmd == 'add-service' and cur is not None:
                return 'Service already exists'
            if cmd == 'edit-service' and cur is None:
                return 'No such service'
            if svc['scheduler'] not in AVAILABLE_SCHEDULERS or (svc['pe'] and svc['pe'] not in AVAILABLE_PES):
                return 'Scheduler or persistence engine not found'
            svc['dests'] = cur['dests'] if cur else {}
            self.services[key] = svc
            return None
        if cmd == 'delete-service':
            if cur is None:
                return 'No such service'
            del self.services[key]
            return None
        if cur is None:
            return 'Service not defined'
        dest = server_entry(cur, opts, spelled, delete=cmd == 'delete-server')
        dkey = _dest_key(dest)
        old = cur['dests'].get(dkey)
        if cmd == 'delete-server':
            if old is None:
                return 'No such destination'
            del cur['dests'][dkey]
            return None
        if dest['l_threshold'] > dest['u_threshold']:
            return 'Numerical result out of range'     # the kernel's ERANGE, before the existence checks
        if cmd == 'add-server' and old is not None:
            return 'Destination already exists'
        if cmd == 'edit-server' and old is None:
            return 'No such destination'
        dest['active'], dest['inactive'] = (old['active'], old['inactive']) if old else (0, 0)
        cur['dests'][dkey] = dest
        return None

    def _restore(self, data):
        rc, errors = 0, []
        for line in data.splitlines():
            tokens = line.split()
            if tokens[:1] == ['ipvsadm']:
                tokens = tokens[1:]
            if not tokens:
                continue
            if tokens[0].startswith('#'):
                # ipvsadm -R knows no comments: '#' is an argument without a command
                return KERNEL_ERROR_RC, '', ''.join(errors) + "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"
            try:
                error = self._execute(tokens)
            except Usage as e:
                return USAGE_RC, '', ''.join(errors) + str(e) + '\n'
            except PoptError as e:
                error = str(e)
            rc = KERNEL_ERROR_RC if error else 0
            if error:
                errors.append(error + '\n')
        return rc, '', ''.join(errors)

    def _list(self, opts, spelled):
        assert 'numeric' in opts, 'always -n: without it ipvsadm prints names'
        if set(opts) & {'timeout', 'daemon', 'connection'} and set(opts) & {'stats', 'rate', 'thresholds'}:
            raise Usage('options conflicts in the list command')
        if 'timeout' in opts:
            return 0, TIMEOUT, ''
        if 'daemon' in opts:
            return 0, '', ''        # no sync daemon runs
        variants = [v for v in ('thresholds', 'stats', 'rate', 'tun-info') if v in opts]
        assert len(variants) <= 1, 'the fake lists one variant at a time: %r' % variants
        variant = variants[0] if variants else None
        services = [self._with_counters(s) for s in self.services.values()]
        if 'service-address' in opts:
            key = _key(selector(opts, spelled))
            if key not in self.services:
                return 1, '', 'No such service\n'     # list_service() exits 1, not 255
            services = [self._with_counters(self.services[key])]
        return 0, listing(services, variant, exact='exact' in opts, single='service-address' in opts), ''

    # ---- the replacement of AnsibleModule.run_command ----
    def run_command(self, args, data=None, environ_update=None, binary_data=False, **kwargs):
        assert isinstance(args, list), 'argv lists only, never shell strings'
        assert environ_update and environ_update.get('LC_ALL') == 'C'
        name, argv = os.path.basename(args[0]), list(args[1:])
        self.calls.append([name] + argv)
        if name == 'modprobe':
            assert len(argv) == 1, argv
            return self._modprobe(argv[0])
        assert name == 'ipvsadm', args
        if not os.path.exists(self.proc):
            return 2, '', "Can't initialize ipvs: Protocol not available\n"
        try:
            cmd, opts, spelled = parse(argv)
        except Usage as e:
            return USAGE_RC, '', str(e) + '\n'
        except PoptError as e:
            return KERNEL_ERROR_RC, '', str(e) + '\n'
        if cmd == 'save':
            assert 'numeric' in opts, 'always -S -n: without -n ipvsadm writes names'
            return 0, ''.join(line + '\n' for line in save(self.services.values())), ''
        if cmd == 'list':
            try:
                return self._list(opts, spelled)
            except Usage as e:
                return USAGE_RC, '', str(e) + '\n'
        if cmd == 'zero':
            return self._zero(opts, spelled)
        if cmd == 'restore':
            self.restores.append(data or '')
            return self._restore(data or '')
        raise AssertionError('unexpected ipvsadm call %r' % args)
