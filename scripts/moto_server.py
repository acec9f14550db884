"""moto_server, with DynamoDB's write atomicity.

DynamoDB applies a conditional write as one step: the condition is checked and the
write applied with no other write to the item in between, which is what lets two
writers race for the audit head or a lease and have exactly one win. moto's
threaded server checks the condition and then writes without a lock, so two
racing writes can both pass their condition. This runs moto_server with the
DynamoDB backend's item reads and writes serialized (one lock for the backend:
coarser than DynamoDB's per-item isolation, never weaker), everything else as
moto has it.

Usage (as moto_server): python moto_server.py -H 127.0.0.1 -p PORT
"""

import functools
import threading

from moto import server
from moto.dynamodb.models import DynamoDBBackend

_lock = threading.RLock()


def _serialized(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _lock:
            return method(*args, **kwargs)

    return wrapper


for _name in ("put_item", "get_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    server.main()
