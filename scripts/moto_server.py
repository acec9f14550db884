"""moto_server, with DynamoDB's write atomicity.

DynamoDB applies a conditional write as one step: the condition is checked and the
write applied with no other write to the item in between, which is what lets two
writers race for the audit head or a lease and have exactly one win. moto's
threaded server checks the condition and then writes without a lock, so two
racing writes can both pass their condition. This runs moto_server with the
DynamoDB backend's item reads and writes serialized (one lock for the backend:
coarser than DynamoDB's per-item isolation, never weaker), everything else as
moto has it.

It stops moto from keeping every model instance it ever made (only SES's are kept,
for data.json) and narrows `/moto-api/data.json` (every tracked object of every service,
each attribute tried through json.dumps) to `?service=…&name=…` when asked: the
SES tests read the sent messages from it, and the whole dump over a suite's worth
of tables and objects took this server past 20 GiB and minutes of CPU, starving
every other test's requests.

Usage (as moto_server): python moto_server.py -H 127.0.0.1 -p PORT
"""

import copy
import functools
import json
import threading
from urllib.parse import parse_qs, urlparse

from moto import server
from werkzeug.serving import WSGIRequestHandler
from moto.core.common_models import BaseModel
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.moto_api._internal import urls as moto_api_urls

_lock = threading.RLock()


def _serialized(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _lock:
            return method(*args, **kwargs)

    return wrapper



# moto's TransactWriteItems deep-copies the whole table once per action to roll back
# a cancelled transaction: a 50-action transaction on a table of 2,000 findings
# copied it 51 times, ~1 s per action, so every transaction-heavy test and
# benchmark slowed down as its table grew. This does what DynamoDB does instead:
# every condition is checked first, and a transaction whose checks fail writes
# nothing (its actions name distinct items, so one action's write cannot change
# another's check); only then are the actions applied. Should applying still fail
# (a malformed update expression), the touched items and the stream are restored
# from copies of just those items.
def _transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen = set()
    actions = []
    errors = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        old_item = None
        try:
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if unique in seen:
                raise MultipleTransactionsException()
            seen.add(unique)
            current = self.get_item(op["TableName"], key)
            if op.get("ConditionExpression") is not None:
                check = get_filter_expression(
                    op["ConditionExpression"],
                    op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues"),
                )
                if not check.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=old_item)
            actions.append((op_type, op, table, key, copy.deepcopy(current)))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), old_item))
        except Exception as e:  # noqa: E722 as moto reports any other failure
            errors.append((type(e).__name__, str(e), old_item))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    streams = {id(t): (t, len(t.stream_shard.items)) for _, _, t, _, _ in actions if t.stream_shard}
    try:
        for op_type, op, table, key, _ in actions:
            # The checked condition goes along (it holds: nothing ran in between)
            # so moto sees every placeholder used, as in the original call.
            given = dict(
                condition_expression=op.get("ConditionExpression"),
                expression_attribute_names=op.get("ExpressionAttributeNames"),
                expression_attribute_values=op.get("ExpressionAttributeValues"),
            )
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"], **given)
            elif op_type == "Delete":
                self.delete_item(op["TableName"], key, **given)
            elif op_type == "Update":
                self.update_item(op["TableName"], key, op["UpdateExpression"], **given)
    except Exception:
        for _, _, table, key, before in actions:
            hash_value, range_value = self.get_keys_value(table, key)
            slot = table.items[hash_value] if range_value else table.items
            slot_key = range_value if range_value else hash_value
            if before is None:
                slot.pop(slot_key, None)
            else:
                slot[slot_key] = before
        for table, length in streams.values():
            del table.stream_shard.items[length:]
        raise


DynamoDBBackend.transact_write_items = _transact_write_items

for _name in ("put_item", "get_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))


# moto tracks every model instance it ever creates (`BaseModel.__new__` appends each
# to a class-level list, for `/moto-api/data.json`), and never lets one go: every
# DynamoDB item version written or copied, every S3 object, every stream record.
# Over a test suite that kept 20+ GiB alive. Only the SES tests read data.json (the
# sent messages), so only SES models are tracked.
_TRACKED_SERVICES = ("moto.ses.", "moto.sesv2.")


def _new_model(cls, *args, **kwargs):
    instance = super(BaseModel, cls).__new__(cls)
    if cls.__module__.startswith(_TRACKED_SERVICES):
        cls.instances_tracked.append(instance)
    return instance


BaseModel.__new__ = _new_model

# The request log names each JSON-protocol call (`X-Amz-Target`, e.g.
# DynamoDB_20120810.Query) and its body size, which werkzeug's line does not: with
# the memory samples of scripts/with_moto.sh, it shows which calls grow the emulator.
_log_request = WSGIRequestHandler.log_request


def _log_request_with_target(self, code="-", size="-"):
    target = self.headers.get("X-Amz-Target")
    if not target:
        return _log_request(self, code, size)
    # werkzeug builds the line from self.path; the request is answered by now.
    path = self.path
    self.path = f"{path} [{target} {self.headers.get('Content-Length', '-')}B]"
    try:
        _log_request(self, code, size)
    finally:
        self.path = path


WSGIRequestHandler.log_request = _log_request_with_target


def _model_data(request, full_url, headers):
    """moto's `/moto-api/data.json`, limited to the services and model names the
    query asks for (`?service=ses&name=RawMessage`); without them, everything."""
    from moto.core.model_instances import model_data

    query = parse_qs(urlparse(full_url).query)
    services = set(query.get("service", [])) or set(model_data)
    names = set(query.get("name", []))
    results = {}
    for service in sorted(services & set(model_data)):
        models = model_data[service]
        results[service] = {}
        for name in sorted(n for n in models if not names or n in names):
            results[service][name] = []
            for instance in models[name].instances_tracked:
                row = {}
                for attr in dir(instance):
                    if attr.startswith("_"):
                        continue
                    try:
                        value = getattr(instance, attr)
                        json.dumps(value)
                    except (TypeError, AttributeError, ValueError):
                        continue
                    row[attr] = value
                results[service][name].append(row)
    return 200, {"Content-Type": "application/json"}, json.dumps(results)


moto_api_urls.url_paths["{0}/moto-api/data.json"] = _model_data

if __name__ == "__main__":
    server.main()
