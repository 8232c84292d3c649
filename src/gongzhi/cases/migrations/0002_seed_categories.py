"""Seed the categories and default time limits of rules.md §2.

The values are written out here rather than imported, so this migration keeps producing
the same rows whatever later code says. Each seeded row gets an audit event, like every
other change of a rule.
"""

from django.db import migrations
from django.utils import timezone

SERVICE_15 = (15, "minutes", "service_hours")
CALENDAR_15 = (15, "minutes", "calendar")
DEFAULTS = {
    "small_matter": (SERVICE_15, (24, "hours", "calendar")),
    "people_at_risk": (CALENDAR_15, (4, "hours", "calendar")),
    "urgent_safety": (CALENDAR_15, (4, "hours", "calendar")),
    "repair": (SERVICE_15, (3, "days", "working")),
    "dispute": (SERVICE_15, (7, "days", "working")),
    "consultation": (SERVICE_15, (5, "days", "working")),
}

NOISE_TIME = {
    "code": "noise_time",
    "label": "噪音时段",
    "datatype": "singlevaluelist",
    "required": False,
    "values": [
        {"key": "day", "name": "白天"},
        {"key": "night", "name": "夜间（22:00—次日6:00）"},
    ],
}

# code, name, group, lead role, co-handler roles, completion photo, keywords, questions
CATEGORIES = [
    (
        "street_light",
        "路灯不亮",
        "small_matter",
        "grid_worker",
        [],
        False,
        ["路灯", "照明", "灯不亮", "灯坏"],
        [],
    ),
    (
        "litter",
        "垃圾堆放",
        "small_matter",
        "grid_worker",
        [],
        False,
        ["垃圾", "乱扔", "堆放", "垃圾桶"],
        [],
    ),
    (
        "corridor_clutter",
        "楼道堆物",
        "small_matter",
        "grid_worker",
        [],
        False,
        ["楼道", "堆物", "杂物", "占用"],
        [],
    ),
    (
        "noise",
        "噪音扰民",
        "small_matter",
        "grid_worker",
        [],
        False,
        ["噪音", "吵", "扰民", "声音"],
        [NOISE_TIME],
    ),
    ("other_small", "其他小事", "small_matter", "grid_worker", [], False, [], []),
    (
        "lift_trapped",
        "电梯困人",
        "people_at_risk",
        "property_manager",
        ["grid_worker"],
        False,
        ["电梯", "困人", "被困", "关在电梯"],
        [{"code": "trapped_count", "label": "被困人数", "datatype": "number", "required": True}],
    ),
    (
        "elder_unreachable",
        "独居老人失联",
        "people_at_risk",
        "grid_worker",
        ["community_worker"],
        False,
        ["独居", "老人", "联系不上", "失联"],
        [],
    ),
    (
        "gas_smell",
        "燃气异味",
        "urgent_safety",
        "grid_worker",
        ["property_manager"],
        False,
        ["燃气", "煤气", "异味", "漏气"],
        [],
    ),
    (
        "flying_wire",
        "飞线充电",
        "urgent_safety",
        "grid_worker",
        ["property_manager"],
        True,
        ["飞线", "充电", "电动车", "拉线"],
        [],
    ),
    (
        "fire_lane_blocked",
        "消防通道堵塞",
        "urgent_safety",
        "property_manager",
        ["grid_worker"],
        True,
        ["消防通道", "堵塞", "占用", "停车"],
        [],
    ),
    (
        "water_main_burst",
        "水管爆裂",
        "urgent_safety",
        "property_manager",
        ["grid_worker"],
        False,
        ["水管", "爆裂", "漏水", "停水"],
        [],
    ),
    (
        "drain_blocked",
        "下水道堵塞",
        "repair",
        "property_manager",
        [],
        True,
        ["下水道", "堵塞", "污水", "反水"],
        [],
    ),
    (
        "roof_leak",
        "屋顶漏水",
        "repair",
        "property_manager",
        ["owners_committee"],
        True,
        ["屋顶", "漏水", "渗水", "顶楼"],
        [],
    ),
    (
        "facility_damaged",
        "公共设施损坏",
        "repair",
        "property_manager",
        [],
        True,
        ["设施", "损坏", "坏了", "维修"],
        [],
    ),
    (
        "leak_from_above",
        "楼上漏水",
        "dispute",
        "mediator",
        ["property_manager"],
        False,
        ["楼上", "漏水", "渗水", "邻居"],
        [],
    ),
    ("pet_dispute", "宠物纠纷", "dispute", "mediator", [], False, ["宠物", "狗", "猫", "遛狗"], []),
    (
        "parking_dispute",
        "停车纠纷",
        "dispute",
        "mediator",
        ["property_manager", "owners_committee"],
        False,
        ["停车", "车位", "占位", "挡车"],
        [],
    ),
    (
        "parking_shortage",
        "停车难",
        "consultation",
        "community_worker",
        ["property_manager", "owners_committee"],
        False,
        ["停车难", "车位", "没地方停"],
        [],
    ),
    (
        "charging_ports",
        "加装充电桩",
        "consultation",
        "community_worker",
        ["property_manager", "owners_committee"],
        False,
        ["充电桩", "充电", "加装"],
        [],
    ),
    (
        "renovation",
        "小区改造",
        "consultation",
        "community_worker",
        ["property_manager", "owners_committee"],
        False,
        ["改造", "加装电梯", "翻新"],
        [],
    ),
]


def seed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    Policy = apps.get_model("cases", "Policy")
    AuditEvent = apps.get_model("core", "AuditEvent")
    now = timezone.now()
    for sort, row in enumerate(CATEGORIES, start=1):
        code, name, group, lead, co, photo, keywords, questions = row
        category, created = Category.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "group": group,
                "lead_role": lead,
                "co_handler_roles": co,
                "requires_photo": photo,
                "keywords": keywords,
                "questions": questions,
                "sort": sort * 10,
            },
        )
        if not created:
            continue
        (r_amount, r_unit, r_clock), (c_amount, c_unit, c_clock) = DEFAULTS[group]
        policy = Policy.objects.create(
            category=category,
            response_amount=r_amount,
            response_unit=r_unit,
            response_clock=r_clock,
            completion_amount=c_amount,
            completion_unit=c_unit,
            completion_clock=c_clock,
        )
        for obj, label, after in (
            (category, "cases.category", {"code": code, "name": name, "group": group}),
            (
                policy,
                "cases.policy",
                {
                    "category": category.pk,
                    "response": [r_amount, r_unit, r_clock],
                    "completion": [c_amount, c_unit, c_clock],
                },
            ),
        ):
            AuditEvent.objects.create(
                at=now,
                verb=f"{label.split('.')[1]}.seed",
                object_type=label,
                object_id=str(obj.pk),
                before={},
                after=after,
            )


def unseed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    Category.objects.filter(code__in=[row[0] for row in CATEGORIES], cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
