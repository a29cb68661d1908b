"""Plain data in a format that cannot run code when it is loaded: what crosses the sandbox.

The grader sends a case's inputs to the learner's sandboxed process, and gets the learner's
results back, in this format. It is JSON: numbers, strings, booleans and ``None`` as they are,
everything else tagged, and arrays as raw little-endian bytes (base64) with a dtype from a fixed
list. Loading it builds only tuples, lists, dicts, numbers, strings, ``None``, numpy arrays and
scalars, CPU torch tensors and ``coursekit.grading.Seeded`` markers: no pickle, no import by
name, no constructor chosen by the data. Anything else is refused with ``NotPlainData``::

    encode(obj) -> a JSON-able structure      decode(structure) -> obj
    dumps(obj) -> bytes                        loads(data, max_bytes=...) -> obj
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import torch

# dtype name -> (numpy dtype of the raw bytes, torch dtype or None for numpy arrays)
_TORCH_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
    "complex64": torch.complex64, "complex128": torch.complex128,
    "uint8": torch.uint8, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
    "bool": torch.bool,
}
_NUMPY_DTYPES = {"float16", "float32", "float64", "complex64", "complex128", "uint8", "uint16", "uint32",
                 "uint64", "int8", "int16", "int32", "int64", "bool"}
MAX_BYTES = 512 * 2**20  # a larger file is refused before it is parsed
MAX_DEPTH = 64


class NotPlainData(TypeError):
    """The object (or the data) is not plain data; the message says where and what."""


def _raw(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False)
                            .tobytes()).decode("ascii")


def encode(obj, path: str = "value", depth: int = 0):
    """A JSON-able structure for ``obj``; raises ``NotPlainData`` naming the offending part."""
    from .grading import Seeded

    if depth > MAX_DEPTH:
        raise NotPlainData(f"{path}: nested more than {MAX_DEPTH} levels deep")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int) and type(obj) is int:
        return obj
    if type(obj) is float:
        return obj if math.isfinite(obj) else {"$float": repr(obj)}
    if type(obj) is complex:
        return {"$complex": [encode(obj.real), encode(obj.imag)]}
    if isinstance(obj, Seeded):
        return {"$seeded": int(obj.seed)}
    if isinstance(obj, torch.Tensor):
        if obj.layout != torch.strided or obj.device.type == "meta":
            raise NotPlainData(f"{path}: a {obj.layout} tensor on {obj.device} (only ordinary tensors)")
        name = str(obj.dtype).removeprefix("torch.")
        if name not in _TORCH_DTYPES:
            raise NotPlainData(f"{path}: a tensor of dtype {obj.dtype}")
        # the tensor's own data, whatever a subclass's methods say about it
        with torch._C.DisableTorchFunctionSubclass():
            plain = torch.Tensor.detach(obj).cpu().resolve_conj().resolve_neg().contiguous()
            array = torch.Tensor.numpy(plain.view(torch.int16) if plain.dtype == torch.bfloat16 else plain)
            shape, requires_grad = list(plain.shape), bool(torch.Tensor.requires_grad.__get__(obj))
        return {"$tensor": {"dtype": name, "shape": shape, "data": _raw(np.asarray(array)),
                            "requires_grad": requires_grad}}
    if isinstance(obj, np.ndarray):
        if obj.dtype.name not in _NUMPY_DTYPES:
            raise NotPlainData(f"{path}: a numpy array of dtype {obj.dtype}")
        return {"$ndarray": {"dtype": obj.dtype.name, "shape": list(obj.shape), "data": _raw(np.asarray(obj))}}
    if isinstance(obj, (np.generic,)):
        if obj.dtype.name not in _NUMPY_DTYPES:
            raise NotPlainData(f"{path}: a numpy scalar of dtype {obj.dtype}")
        return {"$npscalar": {"dtype": obj.dtype.name, "data": _raw(np.asarray(obj))}}
    if type(obj) is tuple:
        return {"$tuple": [encode(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(obj)]}
    if type(obj) is list:
        return [encode(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(obj)]
    if type(obj) is dict:
        return {"$dict": [[encode(k, f"{path} key", depth + 1), encode(v, f"{path}[{k!r}]", depth + 1)]
                          for k, v in obj.items()]}
    kind = type(obj).__name__
    if isinstance(obj, torch.nn.Module):
        kind += " (an nn.Module)"
    raise NotPlainData(f"{path} is a {kind}, which is not plain data (tensors, arrays, numbers, strings, "
                       f"None, and tuples/lists/dicts of them)")


def _array(spec, dtypes, path: str) -> np.ndarray:
    if not isinstance(spec, dict) or set(spec) - {"dtype", "shape", "data", "requires_grad"}:
        raise NotPlainData(f"{path}: a malformed array")
    name, shape, data = spec.get("dtype"), spec.get("shape", []), spec.get("data")
    if name not in dtypes or not isinstance(data, str) or not isinstance(shape, list) \
            or not all(type(n) is int and n >= 0 for n in shape):
        raise NotPlainData(f"{path}: a malformed array")
    raw_dtype = np.dtype("<i2") if name == "bfloat16" else np.dtype(name).newbyteorder("<")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    if len(raw) != math.prod(shape) * raw_dtype.itemsize:
        raise NotPlainData(f"{path}: {len(raw)} bytes do not fill shape {shape} of {name}")
    return np.frombuffer(raw, dtype=raw_dtype).reshape(shape).astype(raw_dtype.newbyteorder("="))


def decode(data, path: str = "value", depth: int = 0):
    """The object a structure made by ``encode`` stands for; ``NotPlainData`` if malformed."""
    from .grading import Seeded

    if depth > MAX_DEPTH:
        raise NotPlainData(f"{path}: nested more than {MAX_DEPTH} levels deep")
    if data is None or isinstance(data, (bool, str, int, float)):
        return data
    if isinstance(data, list):
        return [decode(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(data)]
    if not isinstance(data, dict) or len(data) != 1:
        raise NotPlainData(f"{path}: not plain data")
    (tag, value), = data.items()
    if tag == "$float" and value in ("nan", "inf", "-inf"):
        return float(value)
    if tag == "$complex" and isinstance(value, list) and len(value) == 2:
        return complex(float(decode(value[0])), float(decode(value[1])))
    if tag == "$seeded" and type(value) is int:
        return Seeded(value)
    if tag == "$tuple" and isinstance(value, list):
        return tuple(decode(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(value))
    if tag == "$dict" and isinstance(value, list):
        out = {}
        for item in value:
            if not (isinstance(item, list) and len(item) == 2):
                raise NotPlainData(f"{path}: a malformed dict")
            key = decode(item[0], f"{path} key", depth + 1)
            try:
                hash(key)
            except TypeError:
                raise NotPlainData(f"{path}: an unhashable dict key") from None
            out[key] = decode(item[1], f"{path}[{key!r}]", depth + 1)
        return out
    if tag == "$tensor":
        array = _array(value, _TORCH_DTYPES, path)
        name = value["dtype"]
        tensor = torch.from_numpy(array.copy())
        if name == "bfloat16":
            tensor = tensor.view(torch.bfloat16)
        if value.get("requires_grad") is True and (tensor.is_floating_point() or tensor.is_complex()):
            tensor.requires_grad_(True)
        return tensor
    if tag == "$ndarray":
        return _array(value, _NUMPY_DTYPES, path).copy()
    if tag == "$npscalar":
        if not isinstance(value, dict) or set(value) != {"dtype", "data"}:
            raise NotPlainData(f"{path}: a malformed numpy scalar")
        return _array({**value, "shape": []}, _NUMPY_DTYPES, path)[()]
    raise NotPlainData(f"{path}: unknown tag {str(tag)[:40]!r}")


def dumps(obj) -> bytes:
    return json.dumps(encode(obj), allow_nan=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str, max_bytes: int = MAX_BYTES):
    if len(data) > max_bytes:
        raise NotPlainData(f"{len(data)} bytes: more than the {max_bytes} allowed")
    try:
        structure = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise NotPlainData(f"not valid JSON: {type(error).__name__}") from None
    return decode(structure)
