"""``parkgate keys`` and ``erase``: the keys that seal plates at rest, and erasure by plate."""

import sys

from ..domain.errors import ParkgateError


def register(sub):
    keys = sub.add_parser("keys", help="the keys that seal plates, documents and pictures at rest",
                          description="The key ring ([privacy] key_file, or PARKGATE_KEYS): never in the database.")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys_sub.add_parser("init", help="make the key file (fresh keys) unless there is one",
                        description="Make [privacy] key_file with fresh random keys (mode 0600) unless it exists."
                        ).set_defaults(run=cmd_keys_init)
    keys_sub.add_parser("status", help="the keys, and how many stored values each seals",
                        description="The key ring's keys and the current one; how many stored values (and "
                                    "pictures) each seals.").set_defaults(run=cmd_keys_status)
    rotate = keys_sub.add_parser("rotate", help="a new key; re-seal everything in batches while serving",
                                 description="Add a key and make it current (serving gateways re-read the file), "
                                             "re-seal every sealed value and picture under it in small batches "
                                             "(bound to its column), then retire the older keys once nothing "
                                             "needs them. With --index: the blind index key instead (look-ups "
                                             "match the old and the new index until every row is rewritten).")
    rotate.add_argument("--resume", action="store_true",
                        help="no new key: finish re-sealing under the current one (after an interrupted rotation, "
                             "or to bind values sealed before values were bound to their columns)")
    rotate.add_argument("--index", action="store_true",
                        help="rotate the blind index key: match both, write the new, rewrite the index columns, "
                             "drop the old (the audit log's plate hashes are under the audit key: untouched)")
    rotate.add_argument("--batch", type=int, default=500, help="rows per unit of work (default 500)")
    rotate.set_defaults(run=cmd_keys_rotate)

    erase = sub.add_parser("erase", help="erase a plate: every record and picture, but what a legal hold keeps",
                           description="Remove or anonymise every record of the plate (GDPR, CCPA), except unpaid "
                                       "or disputed citations and an open session; audited with the plate's "
                                       "keyed hash.")
    erase.add_argument("plate")
    erase.set_defaults(run=cmd_erase)


def cmd_keys_init(args, cfg):
    from ..store.keyring import init
    path = cfg.ops.key_file
    print(f"{'made' if init(path) else 'kept'} {path}")


def _rotation(cfg, batch=500):
    from ..app.clock import utcnow
    from ..app.privacy import KeyRotation
    from ..store.vault import ImageVault
    from .admin import open_store
    store = open_store(cfg)
    return KeyRotation(store, ImageVault(directory=cfg.ops.images_dir, keys=store.keys), utcnow, batch=batch,
                       grace_s=2 * cfg.ops.key_reload_s + 1)


def cmd_keys_status(args, cfg):
    from ..store.keyring import parse_head
    rotation = _rotation(cfg)
    keys = rotation.store.keys
    counts = rotation.census()
    print(f"keys from {keys.path or 'PARKGATE_KEYS'}; sealing with {keys.current}"
          + (f"; blind index key rotation under way ({keys.index_rotating})" if keys.index_rotating else ""))
    by_key: dict[str, dict[bool, int]] = {kid: {} for kid in keys.key_ids}
    for head, n in counts.items():   # heads as the census counts them (k2@2); pictures also "unsealed"
        kid, bound = parse_head(head)
        by_key.setdefault(kid, {})[bound] = n
    for kid in sorted(by_key):
        state = "current" if kid == keys.current else ("MISSING" if kid not in keys.key_ids else "older")
        unbound = by_key[kid].get(False, 0)
        print(f"  {kid:<8} {state:<8} {sum(by_key[kid].values()):>10} value(s)"
              + (f", {unbound} unbound (`keys rotate --resume` binds them)" if unbound else ""))


def cmd_keys_rotate(args, cfg):
    from ..store.keyring import KeyRingError
    from .admin import cli_origin, operator
    rotation = _rotation(cfg, args.batch)
    try:
        with cli_origin():
            if args.index:
                return _rotated_index(rotation.rotate_index(operator(), resume=args.resume))
            done = rotation.rotate(operator(), new_key=not args.resume)
    except KeyRingError as e:
        print(f"rotation refused: {e}", file=sys.stderr)
        return 2
    print(f"sealing with {done.key}; re-sealed {sum(done.resealed.values())} row(s) and {done.pictures} picture(s)")
    if done.left:
        print(f"still sealed with older keys: {dict(done.left)}; they stay in the key file "
              "(run `parkgate keys rotate --resume`)", file=sys.stderr)
        return 1
    print(f"retired: {', '.join(done.retired) or 'none'}")


def _rotated_index(done):
    print(f"rewrote the blind index of {sum(done.rewritten.values())} row(s)")
    if not done.retired:
        print("rows kept changing: the old index key stays in the key file (run `parkgate keys rotate --index "
              "--resume`)", file=sys.stderr)
        return 1
    print("retired the old index key")


def cmd_erase(args, cfg):
    from ..app.clock import utcnow
    from ..app.privacy import Erasure
    from ..store.vault import ImageVault
    from .admin import cli_origin, open_store, operator
    try:
        with cli_origin():
            store = open_store(cfg)
            vault = ImageVault(directory=cfg.ops.images_dir, keys=store.keys)
            done = Erasure(store, utcnow, vault=vault).erase(args.plate, operator())
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    for name, n in done.erased.items():
        held = done.held.get(name, 0)
        print(f"{name:<16} {n:>6} erased" + (f", {held} held" if held else ""))
