from datetime import date

import pytest

from backend.screenings.idcard import IdNumberError, check_char, make_id_number, parse_id_number
from tests.screenings.conftest import woman_body

VALID = "11010519491231002X"  # the GB 11643 example


def test_valid_number_gives_its_birth_date():
    assert parse_id_number(VALID) == (VALID, date(1949, 12, 31))


def test_lowercase_x_and_spaces_are_normalised():
    assert parse_id_number(" 11010519491231002x ")[0] == VALID


def test_check_character_mod_11_2():
    assert check_char(VALID[:17]) == "X"
    number = make_id_number("430725", date(1980, 1, 2), 124)
    assert parse_id_number(number)[0] == number


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("110105194912310021", "校验位"),  # wrong check character
        ("110105194902300020", "不是真实的日期"),  # 30 February
        ("11010519491231002", "18 位"),  # 17 characters
        ("11010519491231002X1", "18 位"),  # 19 characters
        ("99010519491231002X", "地区码"),  # no such province
        ("1101051949123100AX", "数字"),
        ("110105210001010010", "不合理"),  # born in the future
    ],
)
def test_invalid_numbers_say_what_is_wrong(number, words):
    with pytest.raises(IdNumberError) as err:
        parse_id_number(number, today=date(2026, 1, 1))
    assert words in str(err.value)


def test_impossible_birth_date_with_a_right_check_char_is_still_refused():
    first17 = "11010519490229002"  # 1949 was not a leap year
    with pytest.raises(IdNumberError, match="不是真实的日期"):
        parse_id_number(first17 + check_char(first17))


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("110105194912310021", "校验位"),
        ("110105194913310026", "出生日期"),
        ("1101051949123100", "18 位"),
    ],
)
def test_api_answers_422_naming_the_field(cadre_a, tree, number, words):
    r = cadre_a.post("/api/v1/women", json={**woman_body(1, tree.village_a1), "id_number": number})
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["field"] == "id_number" and words in err["message"]
