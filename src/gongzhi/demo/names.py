"""Deterministic stand-in names and phone numbers for demo people.

Names are drawn from common Chinese surnames and given-name characters with a seeded
`random.Random`, so the same seed always names the same people. Phone numbers lie in one
block (1990 + two digits for the community + five for the person) that the demo never
leaves; SMS in the demo goes to the console backend and the outbox, never to a phone.
"""

import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严武戴孔汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国平刚桂兰玉萍红霞鹏飞辉宇浩晨欣怡佳琪"
    "思雨梓涵子轩俊文博雅婷海燕志忠春梅晓东立新凤琴雪丹宏亮家豪嘉怡诗琪宁静安康永福德"
)


def person_name(rng: random.Random) -> str:
    """A plausible full name: one surname and one or two given-name characters."""
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def demo_phone(block: int, serial: int) -> str:
    """The demo phone number `serial` in `block` (0 for people above communities)."""
    if not (0 <= block < 100 and 0 < serial < 100_000):
        raise ValueError(f"demo phone out of range: block {block}, serial {serial}")
    return f"1990{block:02d}{serial:05d}"
