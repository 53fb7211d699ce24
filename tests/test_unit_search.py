"""The register search (storage.units.search_units, shared by the chat and the web console): the SQL prefilter picks
the names sharing most character pairs with the query, then WRatio scores only those. These check that a typo still
finds its unit when far more names than the prefilter keeps look alike, on SQLite and PostgreSQL."""

from __future__ import annotations

from storage.areas import find_area
from storage.models import AreaLevel
from storage.units import CANDIDATES, UnitFields, search_features, search_units, upsert_unit

SURNAMES = "赵钱孙李周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
KINDS = ("美容院", "小吃店")
PLACES = ("芙蓉", "岩头", "苍坡", "枫林", "沙头", "鹤盛", "溪口", "花坦", "大若", "巽宅", "茗岙", "")


def test_the_features_are_pairs_and_for_short_keys_characters():
    assert search_features("老王小吃") == ["老王", "王小", "小吃"]
    assert search_features("老王") == ["老王", "老", "王"]
    assert search_features("aaaa") == ["aa"]
    assert len(search_features("很" * 10 + "长的名字" * 10)) <= 12


async def test_a_typo_finds_its_unit_among_many_alike(db, clock):
    names = [f"{place}{surname}{kind}" for place in PLACES for surname in SURNAMES for kind in KINDS]
    assert sum(name.endswith("美容院") for name in names) > CANDIDATES  # more look-alikes than the prefilter keeps
    async with db.transaction() as session:
        village = await find_area(session, "芙蓉村", AreaLevel.VILLAGE)
        for name in [*names, "阿谢美容院", "芙蓉老王小吃店", "秦家棋牌室"]:
            await upsert_unit(session, village, UnitFields(name=name, industry="small_restaurant"), clock.now())
    cases = {
        "阿泻美容院": "阿谢美容院",  # a wrong character
        "阿谢美容": "阿谢美容院",  # a partial name
        "阿谢美荣院": "阿谢美容院",
        "老王小吃": "芙蓉老王小吃店",
        "芙蓉老王小吃点": "芙蓉老王小吃店",
        "岩头韩小吃店": "岩头韩小吃店",
        "枫林金美容": "枫林金美容院",
        "秦家棋牌": "秦家棋牌室",
    }
    async with db.transaction() as session:
        for query, wanted in cases.items():
            found = await search_units(session, query, None, limit=5)
            assert found and found[0][0].name == wanted, (query, [(u.name, s) for u, s in found])
        assert await search_units(session, "！！！", None) == []
        assert await search_units(session, "%_'", None) == []  # no LIKE wildcard reaches the SQL
