# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The action plugin of lvs.cluster.ipvs_table (its documentation is the module's). It checks services
# on the controller with the module's own spec and messages, and sends the module one packed string
# (services_packed) instead: at thousands of real servers, AnsibleModule's decoding, two deep copies and
# the echo of every entry cost the host more than the rest of its work. A bad entry fails here, before
# anything is sent to the host. With them go the digests of each declared service's -S lines, with which
# the host finds a run with nothing to change without parsing the table (_ipvs_digest).

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_digest import declared_digests
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_spec import checked_list, pack_list
from ansible_collections.lvs.cluster.plugins.modules.ipvs_table import SERVICES, declared

MODULE = 'lvs.cluster.ipvs_table'


def digests(services):
    """The digests of the declared services for the module's no-op check, or None when it does not apply.

    The module checks the declaration itself (same code, same messages) whenever it has to change anything.
    """
    try:
        intents = declared({'ignore': []}, services)[0]
    except IpvsError:
        return None
    return declared_digests(intents)


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect

        args = dict(self._task.args)
        # with services_packed given, the module refuses both, or checks the string itself
        if 'services' in args and 'services_packed' not in args:
            services, msg = checked_list('services', args.pop('services'), SERVICES, self._task.action)
            if msg is not None:
                result.update(failed=True, msg=msg)
                return result
            args['services_packed'] = pack_list(services, SERVICES, digests=digests(services))

        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                                         wrap_async=wrap_async))
        if not wrap_async:
            # remove a temporary path we created
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
