#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that no layer reaches up into a layer above it (README.md,
"Layout"): every #include of a project header, and every symbol an object
of the library takes from another, goes to the file's own layer or to one
the table below allows. Only the API, the core and the irqchip glue know
KVM."""

import argparse
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from tap import Tap  # noqa: E402

# Layer: the files in it (a folder ends with '/'), the layers it may use.
LAYERS = {
    'cli': (['src/cli/'], []),
    'api': (['src/api/'], ['core', 'irqchip', 'chips', 'devices', 'boot',
                           'protocols', 'elf', 'loading', 'firmware',
                           'base']),
    'core': (['src/core/'], ['irqchip', 'chips', 'devices', 'boot',
                             'protocols', 'elf', 'loading', 'firmware',
                             'base']),
    'irqchip': (['irqchip/split.c', 'irqchip/kernel.c', 'irqchip/kernel.h',
                 'irqchip/irqchip.h'], ['chips', 'base']),
    'chips': (['irqchip/ioapic.', 'irqchip/pic.', 'irqchip/blob.'], []),
    'devices': (['devices/'], ['firmware', 'base']),
    'boot': (['src/boot/boot.c'], ['protocols', 'elf', 'loading', 'base']),
    'protocols': (['src/boot/bzimage.c', 'src/boot/multiboot.c',
                   'src/boot/pvh.c', 'src/boot/elf64.c'],
                  ['elf', 'loading', 'base']),
    'elf': (['src/boot/elf.c'], ['loading', 'base']),
    'loading': (['src/boot/'], ['base']),
    'firmware': (['src/firmware/'], ['base']),
    'base': (['src/base/'], []),
}
KVM_LAYERS = {'api', 'core', 'irqchip'}
# Headers every layer may include: the public API and meson's config.h.
EVERYWHERE = {'splitvm.h', 'config.h'}
# Headers the build generates, and the file whose layer they belong to.
GENERATED = {'sandbox_bpf.h': 'src/core/sandbox_bpf.h'}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def layer_of(path):
    """The first layer whose files match: the table lists the narrow
    entries (single files) before the folder that holds them."""
    for name, (prefixes, _) in LAYERS.items():
        if any(path.startswith(p) for p in prefixes):
            return name
    return None


def sources(root):
    found = []
    for top in ('src', 'devices', 'irqchip'):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in files:
                if f.endswith(('.c', '.h')):
                    found.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(found)


def check_includes(tap, root, files):
    by_name = {os.path.basename(f): f for f in files}
    by_name.update(GENERATED)
    bad, kvm = [], []
    for f in files:
        text = open(os.path.join(root, f)).read()
        me = layer_of(f)
        for kind, name in INCLUDE.findall(text):
            if kind == '<':
                if name == 'linux/kvm.h' and me not in KVM_LAYERS:
                    kvm.append('%s (%s) includes <linux/kvm.h>' % (f, me))
                continue
            if name in EVERYWHERE:
                continue
            target = by_name.get(os.path.basename(name))
            if target is None:
                bad.append('%s includes "%s", not a project header'
                           % (f, name))
                continue
            them = layer_of(target)
            if them != me and them not in LAYERS[me][1]:
                bad.append('%s (%s) includes %s (%s)' % (f, me, target, them))
    tap.check(not bad, 'every include stays in its layer or below', bad)
    tap.check(not kvm, 'only the API, the core and the irqchip glue '
              'include <linux/kvm.h>', kvm)


def archive_symbols(nm, archive):
    """{member: (defined, undefined)} from nm's listing of the archive."""
    out = subprocess.run([nm, archive], stdout=subprocess.PIPE, check=True,
                         universal_newlines=True).stdout
    members, cur = {}, None
    for line in out.splitlines():
        if line.endswith('.o:'):
            cur = members.setdefault(os.path.basename(line[:-1]),
                                     (set(), set()))
        elif cur is not None:
            parts = line.split()
            if len(parts) == 3 and parts[1] in 'TDRBCV':
                cur[0].add(parts[2])
            elif len(parts) == 2 and parts[0] == 'U':
                cur[1].add(parts[1])
    return members


def check_calls(tap, nm, archive, files):
    # meson names a member after its source path: src/core/vm.c is
    # src_core_vm.c.o.
    source = {f.replace('/', '_') + '.o': f for f in files
              if f.endswith('.c')}
    members = archive_symbols(nm, archive)
    unknown = sorted(set(members) - set(source))
    tap.check(not unknown and members, 'every object of the library is '
              'a source file the layer table knows', unknown)
    owner = {}
    for m, (defined, _) in members.items():
        for sym in defined:
            owner[sym] = source.get(m)
    bad, kvm = [], []
    for m, (_, undefined) in sorted(members.items()):
        f = source.get(m)
        me = layer_of(f) if f else None
        if me is None:
            continue
        for sym in sorted(undefined):
            if sym == 'ioctl' and me not in KVM_LAYERS:
                kvm.append('%s (%s) calls ioctl()' % (f, me))
            target = owner.get(sym)
            if target is None:
                continue
            them = layer_of(target)
            if them != me and them not in LAYERS[me][1]:
                bad.append('%s (%s) calls %s() in %s (%s)'
                           % (f, me, sym, target, them))
    tap.check(not bad, 'no object calls into a layer above its own', bad)
    tap.check(not kvm, 'only the API, the core and the irqchip glue call '
              'ioctl()', kvm)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--source-root', required=True)
    ap.add_argument('--archive', required=True,
                    help='the static library of the core, before prelinking')
    ap.add_argument('--nm', default='nm')
    args = ap.parse_args()
    tap = Tap()
    files = sources(args.source_root)
    unplaced = [f for f in files if layer_of(f) is None]
    tap.check(not unplaced, 'every source file belongs to a layer',
              unplaced)
    check_includes(tap, args.source_root, files)
    check_calls(tap, args.nm, args.archive, files)
    sys.exit(tap.finish())


if __name__ == '__main__':
    main()
