"""Argument checks shared by the whole package: one message style, written once.

Each check returns the value (converted to a plain ``int``/``float``/tuple) or raises an error
that names the argument, what it must be and the value it got::

    self.num_splits = check_int('num_splits', num_splits, low=1)
    # ValueError: num_splits must be a positive int, got 0

A value of the wrong type raises :class:`ArgumentTypeError`, which is both a ``TypeError`` and a
``ValueError`` (callers and tests that catch ``ValueError`` keep working). ``bool`` is never
accepted as a number. numpy scalars are accepted (they register as ``numbers.Integral`` /
``numbers.Real``). Standard library only, so any part of the package may use it.
"""
import math
from numbers import Integral, Real
from typing import Any, Optional, Sequence, Tuple, Union

__all__ = ['ArgumentTypeError', 'did_you_mean', 'check_int', 'check_float', 'check_choice', 'check_range',
           'check_int_pair']


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (also a ``ValueError``, as the checks raised before)."""


def _bounds(low: Optional[float], high: Optional[float], low_open: bool = False,
            high_open: bool = False) -> str:
    """'in [0, 1]', '(0, 1]', '>= 2', '> 0', '<= 5' or '' for the error messages."""
    if low is not None and high is not None:
        return f'in {"(" if low_open else "["}{low}, {high}{")" if high_open else "]"}'
    if low is not None:
        return f'{">" if low_open else ">="} {low}'
    if high is not None:
        return f'{"<" if high_open else "<="} {high}'
    return ''


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def check_int(name: str, value: Any, low: Optional[int] = None,
              high: Optional[int] = None) -> int:
    """Check an integer (not a bool) within ``[low, high]``.

    Args:
        name (str): Argument name, used in the error message.
        value (Any): The value to check.
        low (int, optional): Smallest allowed value. Defaults to None (unbounded).
        high (int, optional): Largest allowed value. Defaults to None (unbounded).

    Returns:
        int: ``value`` as an int.
    """
    if low == 1 and high is None:
        what = 'a positive int'
    else:
        what = ' '.join(filter(None, ('an int', _bounds(low, high))))
    message = f'{name} must be {what}, got {value!r}'
    if not _is_int(value):
        raise ArgumentTypeError(message)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(message)
    return int(value)


def check_float(name: str, value: Any, low: Optional[float] = None,
                high: Optional[float] = None, low_open: bool = False,
                high_open: bool = False) -> float:
    """Check a finite real number (not a bool) within ``low`` .. ``high``.

    Args:
        name (str): Argument name, used in the error message.
        value (Any): The value to check.
        low (float, optional): Lower bound. Defaults to None (unbounded).
        high (float, optional): Upper bound. Defaults to None (unbounded).
        low_open (bool): Exclude ``low`` itself. Defaults to False.
        high_open (bool): Exclude ``high`` itself. Defaults to False.

    Returns:
        float: ``value`` as a float.
    """
    bounds = _bounds(low, high, low_open, high_open)
    message = f'{name} must be {"a number " + bounds if bounds else "a finite number"}, ' \
              f'got {value!r}'
    if not _is_real(value):
        raise ArgumentTypeError(message)
    if not math.isfinite(value):
        raise ValueError(message)
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(message)
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(message)
    return float(value)


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Check that ``value`` is one of ``choices`` (a bool only matches a bool choice).

    Args:
        name (str): Argument name, used in the error message.
        value (Any): The value to check.
        choices (Sequence): The allowed values.

    Returns:
        Any: ``value`` unchanged.
    """
    for choice in choices:
        if isinstance(value, bool) == isinstance(choice, bool) and value == choice:
            return value
    names = [repr(c) for c in choices]
    allowed = names[0] if len(names) == 1 else f'{", ".join(names[:-1])} or {names[-1]}'
    raise ValueError(f'{name} must be {allowed}, got {value!r}')


def check_range(name: str, value: Union[float, Sequence[float]], low: Optional[float] = None,
                high: Optional[float] = None) -> Tuple[float, float]:
    """Check a scalar or a ``(min, max)`` pair within ``[low, high]``; return it as a pair.

    A scalar ``v`` means the fixed value ``(v, v)``.

    Args:
        name (str): Argument name, used in the error message.
        value (float | Sequence[float]): Scalar or ``(min, max)``.
        low (float, optional): Smallest allowed value. Defaults to None (unbounded).
        high (float, optional): Largest allowed value. Defaults to None (unbounded).

    Returns:
        tuple[float, float]: ``(min, max)`` with ``min <= max``.
    """
    if _is_real(value):
        pair = (float(value), float(value))
    elif (isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
          and all(_is_real(v) for v in value)):
        pair = (float(value[0]), float(value[1]))
    else:
        raise ArgumentTypeError(f'{name} must be a number or a (min, max) pair, got {value!r}')
    if not all(math.isfinite(v) for v in pair):
        raise ValueError(f'{name} must be finite, got {value!r}')
    if pair[0] > pair[1]:
        raise ValueError(f'{name} must be ordered as (min, max), got {value!r}')
    if low is not None and pair[0] < low:
        raise ValueError(f'{name} must be >= {low}, got {value!r}')
    if high is not None and pair[1] > high:
        raise ValueError(f'{name} must be <= {high}, got {value!r}')
    return pair


def check_int_pair(name: str, value: Any, low: int = 1) -> Tuple[int, int]:
    """Check an int or a pair ``(h, w)`` of ints, each ``>= low``; return the pair.

    A single int ``v`` means ``(v, v)``.

    Args:
        name (str): Argument name, used in the error message.
        value (int | Sequence[int]): The value to check.
        low (int): Smallest allowed value of each. Defaults to 1.

    Returns:
        tuple[int, int]: ``(h, w)``.
    """
    pair = (value, value) if _is_int(value) else value
    if (isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2
            and all(_is_int(v) and v >= low for v in pair)):
        return int(pair[0]), int(pair[1])
    what = 'a positive int' if low == 1 else f'an int >= {low}'
    raise ValueError(f'{name} must be {what} or a pair (h, w) of them, got {value!r}')


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``known`` to a mistyped ``name``, or ''.

    Args:
        name (str): What the user wrote.
        known (Sequence[str]): The names that exist.
    """
    import difflib
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f' (did you mean {close[0]!r}?)' if close else ''
