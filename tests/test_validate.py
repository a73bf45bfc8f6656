"""mmssl_us.validate: what each check accepts, what it refuses, and the message it gives."""
import re

import numpy as np
import pytest

from mmssl_us.validate import (ArgumentTypeError, check_choice, check_float, check_int,
                               check_int_pair, check_range)


def test_type_errors_are_also_value_errors():
    assert issubclass(ArgumentTypeError, TypeError) and issubclass(ArgumentTypeError, ValueError)


@pytest.mark.parametrize('value', [0, 5, np.int64(7), np.uint8(3)])
def test_check_int_accepts_ints_and_returns_plain_int(value):
    out = check_int('n', value, low=0)
    assert out == value and type(out) is int


@pytest.mark.parametrize('value', [True, False, 2.0, '3', None, np.float32(1)])
def test_check_int_refuses_other_types(value):
    with pytest.raises(TypeError, match=re.escape(f'n must be an int, got {value!r}')):
        check_int('n', value)


@pytest.mark.parametrize('kwargs, value, message', [
    (dict(low=1), 0, 'num_splits must be a positive int, got 0'),
    (dict(low=2), 1, 'num_splits must be an int >= 2, got 1'),
    (dict(low=0), -1, 'num_splits must be an int >= 0, got -1'),
    (dict(low=1, high=255), 300, r'num_splits must be an int in \[1, 255\], got 300'),
    (dict(high=4), 5, 'num_splits must be an int <= 4, got 5'),
])
def test_check_int_bounds(kwargs, value, message):
    with pytest.raises(ValueError, match=message) as err:
        check_int('num_splits', value, **kwargs)
    assert not isinstance(err.value, TypeError)  # a value out of range is not a type error
    low, high = kwargs.get('low'), kwargs.get('high')
    inside = low if low is not None else high
    assert check_int('num_splits', inside, **kwargs) == inside  # the bounds are inclusive


def test_check_float():
    assert check_float('p', 1, 0, 1) == 1.0 and type(check_float('p', 1)) is float
    assert check_float('p', np.float32(0.5), 0, 1) == 0.5
    with pytest.raises(ValueError, match=r'prob must be a number in \[0.0, 1.0\], got 1.5'):
        check_float('prob', 1.5, 0.0, 1.0)
    with pytest.raises(ValueError, match=r'x must be a number in \(0, 1\], got 0'):
        check_float('x', 0, 0, 1, low_open=True)
    assert check_float('x', 1, 0, 1, low_open=True) == 1.0
    with pytest.raises(ValueError, match=r'x must be a number in \[0, 1\), got 1'):
        check_float('x', 1, 0, 1, high_open=True)
    with pytest.raises(ValueError, match='pixel_size must be a number > 0, got -1'):
        check_float('pixel_size', -1, low=0, low_open=True)
    for bad in (float('nan'), float('inf'), -float('inf')):
        with pytest.raises(ValueError, match='a finite number'):
            check_float('x', bad)
        with pytest.raises(ValueError, match='>= 0'):  # NaN must not slip through a bound
            check_float('x', bad, low=0)
    for bad in (True, '0.5', None, [0.5]):
        with pytest.raises(TypeError, match='x must be a finite number'):
            check_float('x', bad)


def test_check_choice():
    assert check_choice('backend', 'cv2', ('cv2', 'pillow')) == 'cv2'
    assert check_choice('channels', np.int64(3), (1, 3)) == 3
    with pytest.raises(ValueError, match="backend must be 'cv2' or 'pillow', got 'pil'"):
        check_choice('backend', 'pil', ('cv2', 'pillow'))
    with pytest.raises(ValueError, match='channels must be 1 or 3, got 2'):
        check_choice('channels', 2, (1, 3))
    with pytest.raises(ValueError, match="kind must be 'a', 'b' or 'c', got 'd'"):
        check_choice('kind', 'd', ['a', 'b', 'c'])
    with pytest.raises(ValueError, match="only must be 'x', got 'y'"):
        check_choice('only', 'y', ('x', ))
    with pytest.raises(ValueError, match='got True'):  # True == 1, but a bool is not a channel
        check_choice('channels', True, (1, 3))
    assert check_choice('flag', True, (True, None)) is True


def test_check_range():
    assert check_range('a', 2) == (2.0, 2.0)
    assert check_range('a', [1, np.float64(2.5)], low=0, high=3) == (1.0, 2.5)
    for value, message in (((2, 1), 'ordered'), ((0, float('inf')), 'finite'),
                           ((-1, 1), '>= 0'), ((0, 4), '<= 3'), ('ab', 'pair'),
                           ((1, 2, 3), 'pair'), ((True, 1), 'pair')):
        with pytest.raises(ValueError, match=message):
            check_range('a', value, low=0, high=3)


def test_check_int_pair():
    assert check_int_pair('scale', 32) == (32, 32)
    assert check_int_pair('scale', [24, np.int32(16)]) == (24, 16)
    assert check_int_pair('margin', (0, 0), low=0) == (0, 0)
    for bad in (0, (0, 4), (4, ), (4, 4, 4), (4.0, 4), True, '44'):
        with pytest.raises(ValueError,
                           match=r'scale must be a positive int or a pair \(h, w\) of them'):
            check_int_pair('scale', bad)
