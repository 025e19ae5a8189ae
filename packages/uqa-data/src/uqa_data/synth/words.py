"""Word lists for synthetic item names and titles, in English and Chinese.

Each list is a tuple of ``(english, chinese)`` pairs so both languages name the
same thing; a seeded catalogue picks by index, so ``--lang`` changes only the
strings, never the structure of the data.
"""

from __future__ import annotations

CATEGORY_NOUNS: tuple[tuple[str, str], ...] = (
    ("Running Shoes", "跑步鞋"), ("Sneakers", "运动鞋"), ("Boots", "靴子"),
    ("Sandals", "凉鞋"), ("T-Shirts", "T恤"), ("Hoodies", "卫衣"), ("Jackets", "夹克"),
    ("Down Coats", "羽绒服"), ("Jeans", "牛仔裤"), ("Dresses", "连衣裙"), ("Skirts", "半身裙"),
    ("Sweaters", "毛衣"), ("Pajamas", "睡衣"), ("Socks", "袜子"), ("Backpacks", "双肩包"),
    ("Handbags", "手提包"), ("Wallets", "钱包"), ("Watches", "手表"), ("Sunglasses", "太阳镜"),
    ("Necklaces", "项链"), ("Lipstick", "口红"), ("Face Cream", "面霜"), ("Sunscreen", "防晒霜"),
    ("Shampoo", "洗发水"), ("Perfume", "香水"), ("Toothpaste", "牙膏"), ("Phone Cases", "手机壳"),
    ("Earphones", "耳机"), ("Power Banks", "充电宝"), ("Smartphones", "手机"),
    ("Laptops", "笔记本电脑"), ("Keyboards", "键盘"), ("Computer Mice", "鼠标"),
    ("Monitors", "显示器"), ("Tablets", "平板电脑"), ("Cameras", "相机"),
    ("Smart Speakers", "智能音箱"), ("Rice Cookers", "电饭煲"), ("Air Fryers", "空气炸锅"),
    ("Kettles", "电水壶"), ("Blenders", "破壁机"), ("Vacuum Cleaners", "吸尘器"),
    ("Desk Lamps", "台灯"), ("Bed Sheets", "床单"), ("Pillows", "枕头"), ("Towels", "毛巾"),
    ("Storage Boxes", "收纳箱"), ("Cookware", "锅具"), ("Coffee Beans", "咖啡豆"),
    ("Green Tea", "绿茶"), ("Snacks", "零食"), ("Instant Noodles", "方便面"),
    ("Chocolate", "巧克力"), ("Milk Powder", "奶粉"), ("Diapers", "纸尿裤"), ("Toys", "玩具"),
    ("Building Blocks", "积木"), ("Picture Books", "绘本"), ("Novels", "小说"),
    ("Notebooks", "笔记本"), ("Pens", "笔"), ("Yoga Mats", "瑜伽垫"), ("Dumbbells", "哑铃"),
    ("Bicycles", "自行车"), ("Tents", "帐篷"), ("Fishing Rods", "鱼竿"), ("Cat Food", "猫粮"),
    ("Dog Food", "狗粮"), ("Potted Plants", "盆栽"), ("Car Mats", "汽车脚垫"),
    ("Vitamins", "维生素"), ("Guitars", "吉他"),
)

CATEGORY_MODIFIERS: tuple[tuple[str, str], ...] = (
    ("", ""), ("Women's", "女士"), ("Men's", "男士"), ("Kids'", "儿童"), ("Outdoor", "户外"),
    ("Portable", "便携"), ("Premium", "高端"), ("Mini", "迷你"), ("Vintage", "复古"),
    ("Smart", "智能"), ("Eco", "环保"), ("Travel", "旅行"), ("Home", "家用"),
    ("Professional", "专业"), ("Imported", "进口"), ("Handmade", "手工"), ("Summer", "夏季"),
    ("Winter", "冬季"),
)

ADJECTIVES: tuple[tuple[str, str], ...] = (
    ("Lightweight", "轻便"), ("Classic", "经典"), ("New", "新款"), ("Breathable", "透气"),
    ("Durable", "耐用"), ("Soft", "柔软"), ("Slim", "修身"), ("Waterproof", "防水"),
    ("Deluxe", "豪华"), ("Simple", "简约"), ("Trendy", "潮流"), ("Cozy", "舒适"),
    ("Compact", "小巧"), ("Large", "大号"), ("Limited", "限量"), ("Organic", "有机"),
    ("Wireless", "无线"), ("Quick-Dry", "速干"), ("Warm", "保暖"), ("Bright", "亮色"),
)

SYLLABLES_EN: tuple[str, ...] = (
    "ka", "lo", "vex", "nor", "tri", "zen", "mar", "qui", "dal", "ro", "sa", "fin", "bel",
    "tor", "ven", "ly", "mo", "rex", "ta", "pix", "sol", "ari", "bo", "cor", "dex", "ela",
    "fa", "gor", "hal", "io", "jun", "kel", "lum", "nex", "ora", "pra", "sun", "tek", "uma",
    "vio",
)

CHARS_ZH: tuple[str, ...] = tuple(dict.fromkeys(
    "华美佳悦优品星辰云海天诚信恒泰丰源金瑞鑫达宏康乐安新雅润泽锦绣盛和嘉禾永顺明德"
    "汇通睿智博远青松飞扬晨光月影思百合凯旋翔宇莱茵维尔森林晴川"
))
"""Distinct characters (a repeated one would make two codes spell the same name)."""

SHOP_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("Flagship Store", "旗舰店"), ("Official Store", "官方店"), ("Store", "专营店"),
    ("Outlet", "折扣店"), ("Boutique", "精品店"), ("Shop", "小铺"), ("Studio", "工作室"),
    ("Mall", "商城"),
)

SURNAMES: tuple[tuple[str, str], ...] = (
    ("Zhang", "张"), ("Wang", "王"), ("Li", "李"), ("Zhao", "赵"), ("Chen", "陈"),
    ("Liu", "刘"), ("Yang", "杨"), ("Huang", "黄"), ("Zhou", "周"), ("Wu", "吴"),
    ("Xu", "徐"), ("Sun", "孙"), ("Ma", "马"), ("Zhu", "朱"), ("Hu", "胡"), ("Guo", "郭"),
    ("He", "何"), ("Lin", "林"), ("Luo", "罗"), ("Gao", "高"),
)

SELLER_KINDS: tuple[tuple[str, str], ...] = (
    ("Trading Co.", "商贸有限公司"), ("Commerce", "电子商务"), ("Retail", "零售商行"),
    ("Goods", "百货"), ("Supply", "供应链"), ("Import & Export", "进出口公司"),
)
