"""What the demo contains: the districts, subdistricts and communities of the seed article.

The communities, their districts and subdistricts and their types are the article's
(`stories.md`); the estates' layouts, shop counts and company names are plausible
stand-ins sized like real Shanghai communities. Everything the builders create is derived
from these tables, so the same seed always gives the same data.
"""

from dataclasses import dataclass, field

from gongzhi.places.models import CommunityType


@dataclass(frozen=True)
class BuildingGroup:
    """`count` buildings of one layout: floors × entrances × dwellings per floor."""

    count: int
    floors: int
    entrances: int
    per_floor: int
    area: tuple[int, int]  # exclusive area range in m², drawn once per flat position


@dataclass(frozen=True)
class EstateSpec:
    segment: str
    name: str
    groups: tuple[BuildingGroup, ...]
    shops: int = 0
    property_company: str = ""
    # Owners' committee members (业委会); zero where there are no owners (rental housing).
    owners_committee: int = 5


@dataclass(frozen=True)
class CommunitySpec:
    key: str  # lower-case prefix of the community's demo usernames
    segment: str
    name: str
    community_type: str
    district: str  # district code
    subdistrict: str  # subdistrict segment
    estates: tuple[EstateSpec, ...]
    grids: int
    stories: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str
    key: str  # lower-case prefix of the district supervisor's username
    subdistricts: tuple[tuple[str, str], ...]  # (segment, name)


# Every subdistrict of 长宁 is present, not only those with a story's community: story 12's
# "宁治有方" collects one method from each of 长宁's ten subdistricts and towns.
DISTRICTS: tuple[DistrictSpec, ...] = (
    DistrictSpec(
        "310105",
        "长宁区",
        "changning",
        (
            ("HYL", "华阳路街道"),
            ("JSL", "江苏路街道"),
            ("XHL", "新华路街道"),
            ("ZJQ", "周家桥街道"),
            ("TSL", "天山路街道"),
            ("XXXC", "仙霞新村街道"),
            ("HQ", "虹桥街道"),
            ("CJQ", "程家桥街道"),
            ("BXJ", "北新泾街道"),
            ("XJ", "新泾镇"),
        ),
    ),
    DistrictSpec("310115", "浦东新区", "pudong", (("DML", "东明路街道"), ("KQ", "康桥镇"))),
    DistrictSpec("310114", "嘉定区", "jiading", (("XCL", "新成路街道"), ("ML", "马陆镇"))),
    DistrictSpec("310106", "静安区", "jingan", (("SMEL", "石门二路街道"), ("LFL", "临汾路街道"))),
    DistrictSpec("310151", "崇明区", "chongming", (("CX", "长兴镇"), ("GX", "港西镇"))),
)

# Building layouts seen in Shanghai estates.
MULTI = dict(floors=6, entrances=3, per_floor=2)  # 多层, six floors, walk-up
MID = dict(floors=11, entrances=2, per_floor=2)  # 小高层
C = CommunityType

COMMUNITIES: tuple[CommunitySpec, ...] = (
    CommunitySpec(
        "hqxc",
        "HQXC",
        "虹桥新城居民区",
        C.COMMERCIAL,
        "310105",
        "ZJQ",
        (
            EstateSpec(
                "E1",
                "虹桥新城",
                (
                    BuildingGroup(8, **MULTI, area=(75, 110)),
                    BuildingGroup(10, 24, 1, 4, area=(90, 145)),
                ),
                shops=20,
                property_company="上海恒安物业管理有限公司",
            ),
        ),
        grids=3,
        stories=(1,),
    ),
    CommunitySpec(
        "hs",
        "HS",
        "华山居民区",
        C.MIXED,
        "310105",
        "JSL",
        (
            EstateSpec(
                "E1",
                "华山小区",
                (BuildingGroup(14, **MULTI, area=(38, 62)),),
                shops=8,
                property_company="上海长宁房产物业有限公司",
            ),
            EstateSpec(
                "E2",
                "华山公寓",
                (BuildingGroup(3, 20, 1, 6, area=(80, 130)),),
                property_company="上海和泰物业服务有限公司",
            ),
        ),
        grids=2,
        stories=(7,),
    ),
    CommunitySpec(
        "cjx",
        "CJX",
        "陈家巷居民区",
        C.MIXED,
        "310105",
        "XHL",
        (
            EstateSpec(
                "E1",
                "陈家巷小区",
                (BuildingGroup(18, 5, 3, 2, area=(35, 60)),),
                shops=10,
                property_company="上海新华物业管理有限公司",
            ),
            EstateSpec(
                "E2",
                "武康公寓",
                (BuildingGroup(3, 22, 1, 4, area=(85, 140)),),
                property_company="上海嘉园物业服务有限公司",
            ),
        ),
        grids=2,
        stories=(8,),
    ),
    CommunitySpec(
        "lb",
        "LB",
        "凌八居民区",
        C.RESETTLEMENT,
        "310115",
        "DML",
        (
            EstateSpec(
                "E1",
                "凌兆八村",
                (
                    BuildingGroup(40, **MULTI, area=(45, 75)),
                    BuildingGroup(4, **MID, area=(60, 90)),
                ),
                shops=12,
                property_company="上海东明物业管理有限公司",
            ),
        ),
        grids=3,
        stories=(2,),
    ),
    CommunitySpec(
        "khkt",
        "KHKT",
        "康荟宽庭居委会",
        C.RENTAL,
        "310115",
        "KQ",
        (
            EstateSpec(
                "E1",
                "康荟宽庭一期",
                (BuildingGroup(8, 26, 1, 10, area=(30, 60)),),
                shops=10,
                property_company="上海康桥租赁住房运营有限公司",
                owners_committee=0,
            ),
            EstateSpec(
                "E2",
                "康荟宽庭二期",
                (BuildingGroup(8, 24, 1, 10, area=(30, 60)),),
                shops=6,
                property_company="上海康桥租赁住房运营有限公司",
                owners_committee=0,
            ),
        ),
        grids=4,
        stories=(11,),
    ),
    CommunitySpec(
        "nc",
        "NC",
        "南陈社区",
        C.COMMERCIAL,
        "310114",
        "XCL",
        (
            EstateSpec(
                "E1",
                "南街坊小区",
                (BuildingGroup(24, **MULTI, area=(60, 95)),),
                shops=10,
                property_company="上海瑞丰物业管理有限公司",
            ),
            EstateSpec(
                "E2",
                "南陈新苑",
                (BuildingGroup(4, 18, 1, 4, area=(80, 120)),),
                property_company="上海瑞丰物业管理有限公司",
            ),
        ),
        grids=3,
        stories=(3,),
    ),
    CommunitySpec(
        "dl",
        "DL",
        "德立社区",
        C.COMMERCIAL,
        "310114",
        "ML",
        (
            EstateSpec(
                "E1",
                "德立雅苑",
                (BuildingGroup(12, 18, 1, 4, area=(89, 143)),),
                shops=8,
                property_company="上海锦程物业服务有限公司",
            ),
            EstateSpec(
                "E2",
                "德立华庭",
                (BuildingGroup(10, **MID, area=(85, 125)),),
                property_company="上海锦程物业服务有限公司",
            ),
        ),
        grids=3,
        stories=(10,),
    ),
    CommunitySpec(
        "zjz",
        "ZJZ",
        "张家宅居民区",
        C.COMMERCIAL,
        "310106",
        "SMEL",
        (
            EstateSpec(
                "E1",
                "国际丽都城",
                (BuildingGroup(4, 32, 1, 6, area=(90, 180)),),
                shops=14,
                property_company="上海静安丽都物业管理有限公司",
            ),
            EstateSpec(
                "E2",
                "张家宅新村",
                (BuildingGroup(8, 6, 2, 2, area=(40, 65)),),
                property_company="上海静安房产物业有限公司",
            ),
        ),
        grids=2,
        stories=(4,),
    ),
    CommunitySpec(
        "lfl99",
        "LFL99",
        "临汾路99弄居民区",
        C.COMMERCIAL,
        "310106",
        "LFL",
        (
            EstateSpec(
                "E1",
                "临汾路99弄小区",
                (
                    BuildingGroup(30, **MULTI, area=(65, 100)),
                    BuildingGroup(4, 18, 1, 4, area=(85, 130)),
                ),
                shops=6,
                property_company="上海临汾物业管理有限公司",
                # Story 6: the owners elected a nine-member "红色业委会".
                owners_committee=9,
            ),
        ),
        grids=3,
        stories=(6,),
    ),
    CommunitySpec(
        "ldht",
        "LDHT",
        "鹭岛华庭社区",
        C.RESETTLEMENT,
        "310151",
        "CX",
        (
            EstateSpec(
                "E1",
                "鹭岛华庭",
                (
                    BuildingGroup(32, **MID, area=(55, 90)),
                    BuildingGroup(8, **MULTI, area=(50, 80)),
                ),
                shops=10,
                property_company="上海长兴物业服务有限公司",
            ),
        ),
        grids=3,
        stories=(5,),
    ),
    CommunitySpec(
        "hmjy",
        "HMJY",
        "和睦佳苑社区",
        C.FARMERS,
        "310151",
        "GX",
        (
            EstateSpec(
                "E1",
                "和睦佳苑一期",
                (BuildingGroup(50, **MULTI, area=(70, 120)),),
                shops=8,
                property_company="上海港西物业管理有限公司",
            ),
            EstateSpec(
                "E2",
                "和睦佳苑二期",
                (BuildingGroup(30, **MULTI, area=(70, 120)),),
                shops=4,
                property_company="上海港西物业管理有限公司",
            ),
        ),
        grids=4,
        stories=(9,),
    ),
)

# Story 12: the sharing session was hosted by 长宁 and co-organised by the district social
# work departments of 第二片区; its speakers came from 长宁、浦东、嘉定、静安 and 崇明, so the
# demo's 第二片区 groups every community of those five districts.
CLUSTER_CODE = "P2"
CLUSTER_NAME = "第二片区"
CLUSTER_DISTRICTS: frozenset[str] = frozenset(d.code for d in DISTRICTS)

# The five enabling partners appointed at the session (赋能伙伴), by field of expertise.
PARTNERS: tuple[str, ...] = (
    "法律服务",
    "社区规划",
    "社会工作督导",
    "物业治理",
    "心理咨询",
)

SHOP_TRADES: tuple[str, ...] = (
    "便利店",
    "水果店",
    "理发店",
    "快递驿站",
    "早餐店",
    "药房",
    "洗衣店",
    "电动车维修",
    "房产中介",
    "面馆",
    "五金店",
    "面包房",
    "花店",
    "眼镜店",
)
