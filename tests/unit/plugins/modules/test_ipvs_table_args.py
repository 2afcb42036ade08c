"""ipvs_table checks its services itself (plain_valid, else Ansible's validator): same rules, same messages."""

import re

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_spec import plain_valid
from ansible_collections.lvs.cluster.plugins.modules import ipvs_table

from fake_ipvsadm import FakeKernel
from test_ipvs_modules import run_module

DOC = yaml.safe_load(ipvs_table.DOCUMENTATION)['options']
GOOD = {'address': '192.0.2.10', 'port': 80, 'scheduler': 'sh', 'scheduler_flags': ['sh-port'],
        'persistence_timeout': 60, 'persistence_netmask': '255.255.255.0', 'one_packet': False,
        'purge_real_servers': True,
        'real_servers': [{'address': '10.0.0.1', 'weight': 2, 'forwarding': 'nat', 'port': 8080,
                          'upper_threshold': 10, 'lower_threshold': 5},
                         {'address': '10.0.0.2', 'forwarding': 'tun', 'tun_type': 'gue', 'tun_port': 6080,
                          'tun_checksum': 'remcsum'}]}


def _doc_of(spec):
    """An argument spec in the shape of DOCUMENTATION's options (type, elements, choices, default, required)."""
    out = {}
    for name, option in spec.items():
        entry = {'type': option.get('type', 'str')}
        for field in ('elements', 'choices', 'default'):
            if option.get(field) is not None:
                entry[field] = option[field]
        if option.get('required'):
            entry['required'] = True
        if option.get('options'):
            entry['suboptions'] = _doc_of(option['options'])
        out[name] = entry
    return out


def test_documented_suboptions_are_the_checked_ones():
    """validate-modules compares suboptions only when the argument spec has them: this test does it instead."""
    documented = dict((k, v) for k, v in DOC.items() if k == 'services')
    for option in _walk(documented):
        for field in ('description', 'version_added'):
            option.pop(field, None)
    assert documented == {'services': _doc_of({'services': ipvs_table.SERVICES})['services']}


def _walk(options):
    for option in options.values():
        yield option
        yield from _walk(option.get('suboptions', {}))


def _ansible_accepts_unchanged(items):
    result = ArgumentSpecValidator({'services': ipvs_table.SERVICES}).validate({'services': items})
    if result.errors.errors:
        return False
    # unchanged = the same values, with None for what was not given
    filled = result.validated_parameters['services']
    return all(filled[i][k] == v for i, item in enumerate(items) for k, v in item.items() if k != 'real_servers')


@pytest.mark.parametrize('items, plain', [
    ([GOOD], True),
    ([{'fwmark': 3, 'family': 'ipv6'}], True),
    ([dict(GOOD, port='80')], False),                                   # Ansible converts it
    ([dict(GOOD, one_packet='yes')], False),                            # Ansible converts it
    ([dict(GOOD, port=True)], False),
    ([dict(GOOD, protocol=None)], False),                               # None: Ansible's rules decide
    ([dict(GOOD, color='red')], False),                                 # unknown
    ([dict(GOOD, scheduler='nope')], False),                            # choices
    ([dict(GOOD, scheduler_flags=['flag-3'])], False),                  # choices of list elements
    ([{'fwmark': 3, 'port': 80}], False),                               # mutually_exclusive
    ([{'port': 80}], False),                                            # required_one_of
    ([{'address': '192.0.2.10', 'port': 80, 'persistence_engine': 'sip'}], False),   # required_by
    ([{'address': '192.0.2.10', 'port': 80, 'real_servers': [{'weight': 1}]}], False),  # required
    ([{'address': '192.0.2.10', 'port': 80,
       'real_servers': [{'address': '10.0.0.1', 'forwarding': 'tun', 'tun_type': 'gue'}]}], False),  # required_if
    ([{'address': '192.0.2.10', 'port': 80, 'real_servers': {'address': '10.0.0.1'}}], False),
    (['address=192.0.2.10 port=80'], False),
])
def test_plain_valid_accepts_only_what_ansible_accepts_unchanged(items, plain):
    assert plain_valid(items, ipvs_table.SERVICES) is plain
    if plain:
        assert _ansible_accepts_unchanged(items)


def test_converted_values_take_ansibles_path(tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path)
    args = {'services': [{'address': '192.0.2.10', 'port': '80', 'one_packet': 'no',
                          'real_servers': [{'address': '10.0.0.1', 'weight': '2'}]}]}
    result = run_module('ipvs_table', args, kernel, tmp_path, monkeypatch, capsys)
    assert result['commands'] == ['-A -t 192.0.2.10:80 -s wlc', '-a -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 2']
    assert 'rules' not in result and 'services' not in result


def test_unknown_suboption_message_is_ansibles(tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path)
    args = {'services': [{'address': '192.0.2.10', 'port': 80, 'real_servers': [{'address': '10.0.0.1', 'wieght': 2}]}]}
    result = run_module('ipvs_table', args, kernel, tmp_path, monkeypatch, capsys)
    assert result['failed']
    # the module's name as AnsibleModule gives it (basic.py under this harness, ipvs_table on a host)
    assert re.match(r'Unsupported parameters for \(\S+\) module: services\.real_servers\.wieght\. Supported parameters '
                    r'include: address, forwarding, ', result['msg'])
    assert kernel.calls == []


def test_tables_are_returned_when_asked(tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path, '-A -t 192.0.2.200:80 -s rr\n')
    args = {'services': [{'address': '192.0.2.10', 'port': 80, 'real_servers': [{'address': '10.0.0.1'}]}],
            'return_rules': True, 'return_services': True}
    result = run_module('ipvs_table', args, kernel, tmp_path, monkeypatch, capsys)
    assert result['rules'] == ['-A -t 192.0.2.10:80 -s wlc', '-a -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 1']
    assert [(s['address'], s['port'], len(s['real_servers'])) for s in result['services']] == [
        ('192.0.2.10', 80, 1), ('192.0.2.200', 80, 0)]
