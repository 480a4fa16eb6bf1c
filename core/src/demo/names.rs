//! Data tables for the demo generator: names, places, companies and phrases for the four
//! locales the demo mixes (Polish, Ukrainian, Romanian, Russian).
//!
//! Surnames are stored in their masculine form; the generator derives the feminine form
//! (`Kowalski` → `Kowalska`, `Иванов` → `Иванова`, `Ковальський` → `Ковальська`).

/// A city with its region, postal-code range, landline format and approximate centre.
#[derive(Debug, Clone, Copy, Default)]
pub struct City {
    pub name: &'static str,
    pub region: &'static str,
    /// Lowest and highest postal code of the city, as a number (formatted per country).
    pub postal: (u32, u32),
    /// Landline format; every `#` becomes a random digit.
    pub landline: &'static str,
    pub lat: f64,
    pub lon: f64,
    /// Relative size, used to pick bigger cities more often.
    pub weight: u32,
}

const fn city(
    name: &'static str,
    region: &'static str,
    postal: (u32, u32),
    landline: &'static str,
    lat: f64,
    lon: f64,
    weight: u32,
) -> City {
    City { name, region, postal, landline, lat, lon, weight }
}

// ---------------------------------------------------------------------------------------------
// Polish
// ---------------------------------------------------------------------------------------------

pub const PL_MALE: &[&str] = &[
    "Adam", "Adrian", "Aleksander", "Andrzej", "Antoni", "Artur", "Bartosz", "Bogusław", "Damian", "Dariusz",
    "Dawid", "Filip", "Grzegorz", "Hubert", "Igor", "Jakub", "Jan", "Janusz", "Jarosław", "Jerzy", "Józef",
    "Kacper", "Kamil", "Karol", "Krzysztof", "Łukasz", "Maciej", "Marcin", "Marek", "Mariusz", "Mateusz",
    "Michał", "Mikołaj", "Paweł", "Piotr", "Przemysław", "Radosław", "Rafał", "Robert", "Sebastian",
    "Sławomir", "Stanisław", "Szymon", "Tomasz", "Wiktor", "Witold", "Wojciech", "Zbigniew", "Zdzisław",
];

pub const PL_FEMALE: &[&str] = &[
    "Agnieszka", "Aleksandra", "Alicja", "Anna", "Barbara", "Beata", "Bożena", "Danuta", "Dorota", "Elżbieta",
    "Ewa", "Gabriela", "Grażyna", "Halina", "Hanna", "Irena", "Iwona", "Izabela", "Jadwiga", "Joanna",
    "Jolanta", "Julia", "Justyna", "Karolina", "Katarzyna", "Kinga", "Krystyna", "Lena", "Łucja", "Magdalena",
    "Małgorzata", "Maria", "Marta", "Monika", "Natalia", "Oliwia", "Patrycja", "Renata", "Sylwia", "Teresa",
    "Urszula", "Weronika", "Wiktoria", "Zofia", "Zuzanna",
];

pub const PL_SURNAMES: &[&str] = &[
    "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
    "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Wojciechowski", "Kwiatkowski",
    "Krawczyk", "Kaczmarek", "Piotrowski", "Grabowski", "Zając", "Pawłowski", "Michalski", "Król",
    "Wieczorek", "Jabłoński", "Wróbel", "Nowakowski", "Majewski", "Olszewski", "Stępień", "Malinowski",
    "Jaworski", "Adamczyk", "Dudek", "Nowicki", "Pawlak", "Górski", "Witkowski", "Walczak", "Sikora",
    "Baran", "Rutkowski", "Michalak", "Szewczyk", "Ostrowski", "Tomaszewski", "Pietrzak", "Żółkowski",
    "Wróblewski", "Zalewski", "Jasiński", "Bąk", "Chmielewski", "Włodarczyk", "Czarnecki", "Sokołowski",
    "Kaźmierczak", "Cieślak", "Głowacki", "Ziółkowski", "Przybylski", "Kołodziej", "Wysocki", "Szulc",
];

pub const PL_STREETS: &[&str] = &[
    "ul. Marszałkowska", "ul. Piotrkowska", "ul. Długa", "ul. Krakowska", "ul. Mickiewicza",
    "ul. Słowackiego", "ul. Kościuszki", "ul. Sienkiewicza", "ul. Żeromskiego", "ul. Ogrodowa", "ul. Polna",
    "ul. Leśna", "ul. Lipowa", "ul. Szkolna", "ul. Kwiatowa", "ul. Słoneczna", "ul. Łąkowa", "ul. Wrzosowa",
    "ul. Źródlana", "ul. Chopina", "ul. Kopernika", "ul. Piłsudskiego", "ul. Reymonta", "ul. Jana Pawła II",
    "ul. 3 Maja", "ul. Grunwaldzka", "ul. Świętokrzyska", "ul. Różana", "ul. Wiśniowa", "ul. Brzozowa",
    "al. Jerozolimskie", "al. Niepodległości", "al. Solidarności", "pl. Wolności", "os. Słoneczne",
];

pub const PL_CITIES: &[City] = &[
    city("Warszawa", "mazowieckie", (1, 4999), "+48 22 ### ## ##", 52.2297, 21.0122, 180),
    city("Kraków", "małopolskie", (30001, 31999), "+48 12 ### ## ##", 50.0647, 19.9450, 80),
    city("Łódź", "łódzkie", (90001, 94999), "+48 42 ### ## ##", 51.7592, 19.4560, 67),
    city("Wrocław", "dolnośląskie", (50001, 54999), "+48 71 ### ## ##", 51.1079, 17.0385, 64),
    city("Poznań", "wielkopolskie", (60001, 61999), "+48 61 ### ## ##", 52.4064, 16.9252, 54),
    city("Gdańsk", "pomorskie", (80001, 80999), "+48 58 ### ## ##", 54.3520, 18.6466, 47),
    city("Szczecin", "zachodniopomorskie", (70001, 71999), "+48 91 ### ## ##", 53.4285, 14.5528, 39),
    city("Bydgoszcz", "kujawsko-pomorskie", (85001, 85999), "+48 52 ### ## ##", 53.1235, 18.0084, 33),
    city("Lublin", "lubelskie", (20001, 20999), "+48 81 ### ## ##", 51.2465, 22.5684, 33),
    city("Białystok", "podlaskie", (15001, 15999), "+48 85 ### ## ##", 53.1325, 23.1688, 29),
    city("Katowice", "śląskie", (40001, 40999), "+48 32 ### ## ##", 50.2649, 19.0238, 28),
    city("Gdynia", "pomorskie", (81001, 81999), "+48 58 ### ## ##", 54.5189, 18.5305, 24),
    city("Częstochowa", "śląskie", (42200, 42299), "+48 34 ### ## ##", 50.8118, 19.1203, 21),
    city("Radom", "mazowieckie", (26600, 26699), "+48 48 ### ## ##", 51.4027, 21.1471, 20),
    city("Rzeszów", "podkarpackie", (35001, 35999), "+48 17 ### ## ##", 50.0412, 21.9991, 20),
    city("Toruń", "kujawsko-pomorskie", (87100, 87199), "+48 56 ### ## ##", 53.0138, 18.5984, 20),
    city("Kielce", "świętokrzyskie", (25001, 25999), "+48 41 ### ## ##", 50.8661, 20.6286, 18),
    city("Olsztyn", "warmińsko-mazurskie", (10001, 10999), "+48 89 ### ## ##", 53.7784, 20.4801, 17),
    city("Opole", "opolskie", (45001, 45999), "+48 77 ### ## ##", 50.6751, 17.9213, 13),
    city("Zielona Góra", "lubuskie", (65001, 65999), "+48 68 ### ## ##", 51.9356, 15.5062, 14),
];

/// Mobile prefixes (first three digits of a nine-digit number).
pub const PL_MOBILE: &[&str] = &[
    "501", "502", "503", "504", "505", "506", "509", "510", "512", "513", "515", "516", "530", "531", "533",
    "535", "537", "570", "572", "600", "601", "602", "603", "604", "605", "606", "607", "660", "661", "662",
    "663", "664", "665", "666", "667", "668", "669", "690", "691", "692", "693", "694", "695", "696", "697",
    "698", "721", "722", "723", "724", "725", "728", "730", "731", "733", "781", "782", "783", "784", "785",
    "786", "787", "788", "790", "791", "792", "793", "794", "795", "796", "797", "798", "880", "881", "882",
    "883", "884", "885", "886", "887", "888", "889",
];

pub const PL_FREEMAIL: &[&str] = &["gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "op.pl", "poczta.fm"];

pub const PL_COMPANY_WORDS: &[&str] = &[
    "Mazowsze", "Wisła", "Bałtyk", "Tatry", "Sudety", "Warta", "Odra", "Kasztan", "Dąb", "Orzeł", "Sokół",
    "Jantar", "Wawel", "Pomorze", "Karpaty", "Podhale", "Bieszczady", "Mazury", "Kujawy", "Roztocze",
];

pub const PL_COMPANY_SUFFIXES: &[&str] = &[
    "Serwis", "Trans", "Bud", "Logistyka", "Handel", "Technologie", "Systemy", "Pol", "Med", "Agro", "Druk",
    "Instal", "Projekt", "Stal", "Energia",
];

pub const PL_POSITIONS: &[&str] = &[
    "Prezes zarządu", "Dyrektor handlowy", "Dyrektor finansowy", "Dyrektor operacyjny", "Kierownik ds. zakupów",
    "Kierownik projektu", "Kierownik biura", "Kierownik magazynu", "Specjalista ds. marketingu",
    "Specjalista ds. sprzedaży", "Specjalista ds. HR", "Przedstawiciel handlowy", "Koordynator logistyki",
    "Analityk danych", "Inżynier sprzedaży", "Administrator IT", "Asystent zarządu", "Doradca klienta",
    "Programista", "Właściciel", "Główny księgowy", "Radca prawny",
];

pub const PL_SUPPORT_SUBJECTS: &[&str] = &[
    "Nie mogę się zalogować", "Problem z fakturą", "Pytanie o cennik", "Import kontaktów nie działa",
    "Prośba o zmianę danych firmy", "Błąd przy eksporcie do CSV", "Jak dodać nowego użytkownika?",
    "Reklamacja zamówienia",
];

pub const PL_NOTES: &[&str] = &[
    "Zainteresowany wersją Pro, oddzwonić po urlopie.",
    "Prosi o ofertę na 20 licencji.",
    "Spotkanie przesunięte na przyszły tydzień.",
    "Decyzja zapadnie na zarządzie w przyszłym miesiącu.",
    "Wysłano umowę do podpisu.",
    "Klient zadowolony z wdrożenia, możliwe polecenia.",
    "Preferuje kontakt mailowy.",
    "Porównuje naszą ofertę z konkurencją.",
];

// ---------------------------------------------------------------------------------------------
// Ukrainian
// ---------------------------------------------------------------------------------------------

pub const UA_MALE: &[&str] = &[
    "Олександр", "Андрій", "Анатолій", "Антон", "Артем", "Богдан", "Борис", "Вадим", "Валерій", "Василь",
    "Віктор", "Віталій", "Володимир", "Григорій", "Данило", "Денис", "Дмитро", "Євген", "Іван", "Ігор",
    "Кирило", "Костянтин", "Леонід", "Максим", "Микола", "Мирослав", "Михайло", "Назар", "Олег", "Орест",
    "Остап", "Павло", "Петро", "Роман", "Руслан", "Святослав", "Сергій", "Станіслав", "Степан", "Тарас",
    "Тимофій", "Федір", "Юліан", "Юрій", "Ярослав",
];

pub const UA_FEMALE: &[&str] = &[
    "Ірина", "Аліна", "Алла", "Анастасія", "Богдана", "Валентина", "Вероніка", "Віра", "Вікторія", "Галина",
    "Ганна", "Дарина", "Діана", "Євгенія", "Злата", "Зоряна", "Інна", "Катерина", "Кіра", "Лариса", "Леся",
    "Лілія", "Любов", "Людмила", "Маргарита", "Марія", "Мар'яна", "Надія", "Наталія", "Оксана", "Олена",
    "Олеся", "Ольга", "Поліна", "Роксолана", "Світлана", "Соломія", "Софія", "Тамара", "Тетяна", "Уляна",
    "Христина", "Юлія", "Яна", "Ярослава",
];

pub const UA_SURNAMES: &[&str] = &[
    "Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Олійник", "Шевчук", "Поліщук", "Коваль",
    "Бойко", "Ткачук", "Мельник", "Кравчук", "Марченко", "Руденко", "Савченко", "Петренко", "Лисенко",
    "Мороз", "Павленко", "Левченко", "Харченко", "Клименко", "Карпенко", "Гончаренко", "Литвиненко",
    "Панченко", "Остапенко", "Кузьменко", "Романенко", "Сидоренко", "Юрченко", "Василенко", "Іваненко",
    "Гаврилюк", "Мартинюк", "Савчук", "Дорошенко", "Стасюк", "Головко", "Федорук", "Білоус", "Гнатюк",
    "Костенко", "Приходько", "Зінченко", "Гордієнко", "Ярмоленко", "Ковальський", "Яворський",
    "Вишневський", "Сорока", "Білецький", "Заїка",
];

pub const UA_STREETS: &[&str] = &[
    "вул. Хрещатик", "вул. Шевченка", "вул. Івана Франка", "вул. Лесі Українки", "вул. Грушевського",
    "вул. Сагайдачного", "просп. Перемоги", "просп. Свободи", "вул. Соборна", "вул. Садова",
    "вул. Героїв Майдану", "вул. Січових Стрільців", "вул. Коцюбинського", "вул. Городоцька",
    "вул. Богдана Хмельницького", "вул. Київська", "вул. Незалежності", "бульв. Тараса Шевченка",
    "вул. Квіткова", "вул. Зелена", "вул. Миру", "вул. Вишнева", "вул. Степана Бандери", "вул. Лісова",
    "вул. Шкільна", "вул. Центральна", "просп. Науки", "вул. Володимирська",
];

pub const UA_CITIES: &[City] = &[
    city("Київ", "м. Київ", (1001, 4999), "+380 44 ### ## ##", 50.4501, 30.5234, 290),
    city("Харків", "Харківська обл.", (61001, 61999), "+380 57 ### ## ##", 49.9935, 36.2304, 140),
    city("Одеса", "Одеська обл.", (65001, 65999), "+380 48 ### ## ##", 46.4825, 30.7233, 100),
    city("Дніпро", "Дніпропетровська обл.", (49000, 49999), "+380 56 ### ## ##", 48.4647, 35.0462, 96),
    city("Львів", "Львівська обл.", (79000, 79999), "+380 32 ### ## ##", 49.8397, 24.0297, 72),
    city("Запоріжжя", "Запорізька обл.", (69000, 69999), "+380 61 ### ## ##", 47.8388, 35.1396, 71),
    city("Вінниця", "Вінницька обл.", (21000, 21999), "+380 432 ## ## ##", 49.2331, 28.4682, 37),
    city("Івано-Франківськ", "Івано-Франківська обл.", (76000, 76999), "+380 342 ## ## ##", 48.9226, 24.7111, 24),
    city("Тернопіль", "Тернопільська обл.", (46000, 46999), "+380 352 ## ## ##", 49.5535, 25.5948, 22),
    city("Чернівці", "Чернівецька обл.", (58000, 58999), "+380 372 ## ## ##", 48.2921, 25.9358, 26),
    city("Полтава", "Полтавська обл.", (36000, 36999), "+380 532 ## ## ##", 49.5883, 34.5514, 28),
    city("Ужгород", "Закарпатська обл.", (88000, 88999), "+380 312 ## ## ##", 48.6208, 22.2879, 11),
    city("Луцьк", "Волинська обл.", (43000, 43999), "+380 332 ## ## ##", 50.7472, 25.3254, 21),
    city("Житомир", "Житомирська обл.", (10000, 10999), "+380 412 ## ## ##", 50.2547, 28.6587, 26),
    city("Черкаси", "Черкаська обл.", (18000, 18999), "+380 472 ## ## ##", 49.4444, 32.0598, 27),
    city("Миколаїв", "Миколаївська обл.", (54000, 54999), "+380 512 ## ## ##", 46.9750, 31.9946, 47),
    city("Рівне", "Рівненська обл.", (33000, 33999), "+380 362 ## ## ##", 50.6199, 26.2516, 24),
];

/// Mobile operator codes (after +380).
pub const UA_MOBILE: &[&str] = &["50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"];

pub const UA_FREEMAIL: &[&str] = &["gmail.com", "ukr.net", "i.ua", "meta.ua", "outlook.com"];

pub const UA_COMPANY_WORDS: &[&str] = &[
    "Дніпро", "Карпати", "Поділля", "Світанок", "Злагода", "Ятрань", "Буковина", "Полісся", "Таврія",
    "Слобожанщина", "Говерла", "Десна", "Колос", "Вітрило", "Оберіг", "Зоря", "Галичина", "Черемош",
];

pub const UA_COMPANY_SUFFIXES: &[&str] = &[
    "Сервіс", "Трейд", "Буд", "Агро", "Логістик", "Софт", "Постач", "Експо", "Інвест", "Пром", "Мед", "Груп",
];

pub const UA_POSITIONS: &[&str] = &[
    "Директор", "Генеральний директор", "Комерційний директор", "Фінансовий директор", "Менеджер з продажу",
    "Менеджер із закупівель", "Бухгалтер", "Головний бухгалтер", "Керівник проєкту", "Маркетолог", "Логіст",
    "Юрист", "Інженер", "Системний адміністратор", "Програміст", "HR-менеджер", "Офіс-менеджер", "Аналітик",
];

pub const UA_SUPPORT_SUBJECTS: &[&str] = &[
    "Не можу увійти в кабінет", "Помилка в рахунку", "Питання щодо тарифів", "Не працює імпорт контактів",
    "Зміна реквізитів компанії", "Як додати нового користувача?", "Помилка під час експорту",
    "Повернення коштів",
];

pub const UA_NOTES: &[&str] = &[
    "Цікавиться тарифом Pro, передзвонити наступного тижня.",
    "Просить комерційну пропозицію на 15 ліцензій.",
    "Зустріч перенесено на понеділок.",
    "Рішення ухвалюватиме власник компанії.",
    "Договір надіслано на підпис.",
    "Задоволені впровадженням, готові дати відгук.",
    "Віддає перевагу спілкуванню в месенджері.",
];

// ---------------------------------------------------------------------------------------------
// Romanian
// ---------------------------------------------------------------------------------------------

pub const RO_MALE: &[&str] = &[
    "Andrei", "Alexandru", "Adrian", "Bogdan", "Cătălin", "Constantin", "Cosmin", "Costel", "Cristian",
    "Dan", "Daniel", "Dumitru", "Emil", "Florin", "Gabriel", "George", "Gheorghe", "Horia", "Ion", "Ionuț",
    "Iulian", "Liviu", "Lucian", "Marian", "Marius", "Mihai", "Mircea", "Nicolae", "Octavian", "Ovidiu",
    "Paul", "Petru", "Radu", "Răzvan", "Remus", "Sergiu", "Sorin", "Ștefan", "Traian", "Tudor", "Valentin",
    "Vasile", "Victor", "Viorel", "Virgil",
];

pub const RO_FEMALE: &[&str] = &[
    "Ana", "Anca", "Andreea", "Alexandra", "Adriana", "Alina", "Bianca", "Camelia", "Carmen", "Claudia",
    "Corina", "Cristina", "Daniela", "Denisa", "Diana", "Ecaterina", "Elena", "Florentina", "Gabriela",
    "Georgiana", "Ileana", "Ioana", "Irina", "Iulia", "Larisa", "Laura", "Loredana", "Luminița", "Mădălina",
    "Maria", "Mihaela", "Monica", "Nicoleta", "Oana", "Raluca", "Ramona", "Rodica", "Roxana", "Silvia",
    "Simona", "Ștefania", "Tatiana", "Teodora", "Valentina", "Violeta",
];

pub const RO_SURNAMES: &[&str] = &[
    "Popescu", "Ionescu", "Popa", "Pop", "Radu", "Dumitru", "Stan", "Stoica", "Gheorghe", "Matei", "Ciobanu",
    "Constantin", "Mocanu", "Ioniță", "Munteanu", "Moldovan", "Rusu", "Toma", "Nistor", "Florea", "Dinu",
    "Țurcanu", "Lazăr", "Șerban", "Marin", "Mihăilă", "Bălan", "Sârbu", "Dobre", "Barbu", "Nedelcu", "Tudor",
    "Cristea", "Manole", "Ene", "Oprea", "Dragomir", "Neagu", "Sandu", "Lungu", "Enache", "Niculescu",
    "Georgescu", "Avram", "Păun", "Voicu", "Preda", "Cozma", "Stănescu", "Bucur", "Mărgineanu", "Tănase",
    "Zamfir", "Crăciun", "Diaconu", "Iordache", "Ursu", "Pârvu",
];

pub const RO_STREETS: &[&str] = &[
    "Strada Republicii", "Calea Victoriei", "Bulevardul Unirii", "Strada Mihai Eminescu",
    "Strada Ștefan cel Mare", "Bulevardul Independenței", "Strada Avram Iancu", "Strada Libertății",
    "Strada Mihai Viteazu", "Strada Florilor", "Strada Trandafirilor", "Strada Păcii", "Strada Morii",
    "Bulevardul 1 Decembrie 1918", "Strada Alexandru Ioan Cuza", "Strada Horea", "Strada Lalelelor",
    "Calea Moșilor", "Strada Gării", "Strada Teilor", "Strada Constantin Brâncoveanu",
    "Strada Nicolae Bălcescu", "Strada Tudor Vladimirescu", "Aleea Castanilor",
];

pub const RO_CITIES: &[City] = &[
    city("București", "Municipiul București", (10011, 62999), "+40 21 ### ####", 44.4268, 26.1025, 180),
    city("Cluj-Napoca", "Cluj", (400001, 400999), "+40 264 ### ###", 46.7712, 23.6236, 29),
    city("Timișoara", "Timiș", (300001, 300999), "+40 256 ### ###", 45.7489, 21.2087, 25),
    city("Iași", "Iași", (700001, 700999), "+40 232 ### ###", 47.1585, 27.6014, 27),
    city("Constanța", "Constanța", (900001, 900999), "+40 241 ### ###", 44.1598, 28.6348, 26),
    city("Craiova", "Dolj", (200001, 200999), "+40 251 ### ###", 44.3302, 23.7949, 23),
    city("Brașov", "Brașov", (500001, 500999), "+40 268 ### ###", 45.6427, 25.5887, 24),
    city("Galați", "Galați", (800001, 800999), "+40 236 ### ###", 45.4353, 28.0080, 22),
    city("Ploiești", "Prahova", (100001, 100999), "+40 244 ### ###", 44.9367, 26.0129, 18),
    city("Oradea", "Bihor", (410001, 410999), "+40 259 ### ###", 47.0465, 21.9189, 18),
    city("Sibiu", "Sibiu", (550001, 550999), "+40 269 ### ###", 45.7983, 24.1256, 14),
    city("Arad", "Arad", (310001, 310999), "+40 257 ### ###", 46.1866, 21.3123, 14),
    city("Pitești", "Argeș", (110001, 110999), "+40 248 ### ###", 44.8565, 24.8692, 14),
    city("Bacău", "Bacău", (600001, 600999), "+40 234 ### ###", 46.5670, 26.9146, 13),
    city("Suceava", "Suceava", (720001, 720999), "+40 230 ### ###", 47.6635, 26.2732, 9),
    city("Târgu Mureș", "Mureș", (540001, 540999), "+40 265 ### ###", 46.5425, 24.5575, 12),
    city("Baia Mare", "Maramureș", (430001, 430999), "+40 262 ### ###", 47.6567, 23.5850, 11),
];

/// Mobile prefixes (after +40).
pub const RO_MOBILE: &[&str] = &[
    "720", "721", "722", "723", "724", "726", "728", "729", "730", "731", "732", "733", "740", "741", "742",
    "743", "744", "745", "746", "747", "748", "749", "750", "751", "752", "753", "754", "755", "756", "757",
    "760", "761", "762", "763", "764", "765", "766", "767", "768", "769", "770", "771", "772", "773", "774",
    "775", "786", "787", "788", "789",
];

pub const RO_FREEMAIL: &[&str] = &["gmail.com", "yahoo.com", "yahoo.ro", "outlook.com", "hotmail.com"];

pub const RO_COMPANY_WORDS: &[&str] = &[
    "Carpați", "Dunărea", "Transilvania", "Bucovina", "Mureș", "Olt", "Someș", "Argeș", "Prahova", "Delta",
    "Ceahlău", "Bărăgan", "Siret", "Retezat", "Făgăraș", "Vrancea", "Crișana", "Banat",
];

pub const RO_COMPANY_SUFFIXES: &[&str] = &[
    "Logistic", "Construct", "Trading", "Soft", "Agro", "Distribuție", "Servicii", "Impex", "Prod", "Design",
    "Consult", "Transport",
];

pub const RO_POSITIONS: &[&str] = &[
    "Director general", "Director comercial", "Director financiar", "Manager de vânzări", "Manager de proiect",
    "Agent de vânzări", "Contabil", "Contabil-șef", "Specialist marketing", "Specialist achiziții", "Inginer",
    "Consilier juridic", "Administrator", "Programator", "Coordonator logistică", "Analist", "Asistent manager",
    "Specialist resurse umane",
];

pub const RO_SUPPORT_SUBJECTS: &[&str] = &[
    "Nu mă pot autentifica", "Problemă cu factura", "Întrebare despre prețuri",
    "Importul contactelor nu funcționează", "Schimbarea datelor firmei", "Cum adaug un utilizator nou?",
    "Eroare la export", "Solicitare de rambursare",
];

pub const RO_NOTES: &[&str] = &[
    "Interesat de planul Pro, revenim după concediu.",
    "Solicită ofertă pentru 10 licențe.",
    "Întâlnirea a fost mutată săptămâna viitoare.",
    "Decizia se ia în consiliul de administrație.",
    "Contractul a fost trimis spre semnare.",
    "Client mulțumit, posibile recomandări.",
    "Preferă să fie contactat pe e-mail.",
];

// ---------------------------------------------------------------------------------------------
// Russian
// ---------------------------------------------------------------------------------------------

pub const RU_MALE: &[&str] = &[
    "Дмитрий", "Александр", "Алексей", "Андрей", "Антон", "Аркадий", "Артём", "Борис", "Вадим", "Валентин",
    "Василий", "Виктор", "Владимир", "Владислав", "Вячеслав", "Геннадий", "Георгий", "Глеб", "Григорий",
    "Денис", "Евгений", "Егор", "Иван", "Игорь", "Илья", "Кирилл", "Константин", "Леонид", "Максим",
    "Михаил", "Никита", "Николай", "Олег", "Павел", "Пётр", "Роман", "Руслан", "Семён", "Сергей",
    "Станислав", "Степан", "Тимур", "Фёдор", "Юрий", "Ярослав",
];

pub const RU_FEMALE: &[&str] = &[
    "Анна", "Александра", "Алёна", "Алина", "Анастасия", "Валентина", "Варвара", "Василиса", "Вера",
    "Вероника", "Виктория", "Галина", "Дарья", "Диана", "Евгения", "Екатерина", "Елена", "Елизавета",
    "Жанна", "Зоя", "Инна", "Ирина", "Кристина", "Ксения", "Лариса", "Лидия", "Любовь", "Людмила",
    "Маргарита", "Марина", "Мария", "Милана", "Надежда", "Наталья", "Нина", "Оксана", "Ольга", "Полина",
    "Светлана", "Софья", "Тамара", "Татьяна", "Ульяна", "Юлия", "Яна",
];

pub const RU_SURNAMES: &[&str] = &[
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
    "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
    "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
    "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров",
    "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов",
    "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров",
    "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Вишневский", "Толстой",
    "Покровский", "Щербаков",
];

pub const RU_STREETS: &[&str] = &[
    "ул. Тверская", "ул. Ленина", "ул. Пушкина", "ул. Гагарина", "ул. Советская", "ул. Мира", "просп. Мира",
    "ул. Садовая", "ул. Лесная", "ул. Школьная", "Невский просп.", "ул. Молодёжная", "ул. Центральная",
    "ул. Набережная", "ул. Строителей", "ул. Победы", "ул. Кирова", "ул. Чехова", "ул. Горького",
    "ул. Лермонтова", "ул. Комсомольская", "ул. Октябрьская", "ул. Зелёная", "ул. Первомайская",
    "Ленинский просп.", "ул. Гоголя",
];

pub const RU_CITIES: &[City] = &[
    city("Москва", "Москва", (101000, 129999), "+7 495 ###-##-##", 55.7558, 37.6173, 1300),
    city("Санкт-Петербург", "Санкт-Петербург", (190000, 199999), "+7 812 ###-##-##", 59.9343, 30.3351, 540),
    city("Новосибирск", "Новосибирская область", (630000, 630999), "+7 383 ###-##-##", 55.0084, 82.9357, 163),
    city("Екатеринбург", "Свердловская область", (620000, 620999), "+7 343 ###-##-##", 56.8389, 60.6057, 154),
    city("Казань", "Республика Татарстан", (420000, 420999), "+7 843 ###-##-##", 55.7887, 49.1221, 131),
    city("Нижний Новгород", "Нижегородская область", (603000, 603999), "+7 831 ###-##-##", 56.2965, 43.9361, 121),
    city("Самара", "Самарская область", (443000, 443999), "+7 846 ###-##-##", 53.1959, 50.1002, 114),
    city("Ростов-на-Дону", "Ростовская область", (344000, 344999), "+7 863 ###-##-##", 47.2357, 39.7015, 114),
    city("Краснодар", "Краснодарский край", (350000, 350999), "+7 861 ###-##-##", 45.0355, 38.9753, 110),
    city("Воронеж", "Воронежская область", (394000, 394999), "+7 473 ###-##-##", 51.6720, 39.1843, 104),
    city("Пермь", "Пермский край", (614000, 614999), "+7 342 ###-##-##", 58.0105, 56.2502, 103),
    city("Уфа", "Республика Башкортостан", (450000, 450999), "+7 347 ###-##-##", 54.7388, 55.9721, 114),
    city("Челябинск", "Челябинская область", (454000, 454999), "+7 351 ###-##-##", 55.1644, 61.4368, 118),
    city("Омск", "Омская область", (644000, 644999), "+7 3812 ##-##-##", 54.9885, 73.3242, 111),
    city("Красноярск", "Красноярский край", (660000, 660999), "+7 391 ###-##-##", 56.0153, 92.8932, 119),
    city("Калининград", "Калининградская область", (236000, 236999), "+7 4012 ##-##-##", 54.7104, 20.4522, 49),
    city("Ярославль", "Ярославская область", (150000, 150999), "+7 4852 ##-##-##", 57.6261, 39.8845, 57),
];

/// Mobile prefixes (after +7).
pub const RU_MOBILE: &[&str] = &[
    "901", "903", "905", "906", "909", "910", "911", "912", "913", "914", "915", "916", "917", "918", "919",
    "920", "921", "922", "925", "926", "927", "929", "950", "951", "952", "953", "960", "961", "962", "963",
    "964", "965", "967", "977", "980", "981", "985", "987", "988", "999",
];

pub const RU_FREEMAIL: &[&str] = &["mail.ru", "yandex.ru", "gmail.com", "rambler.ru", "bk.ru", "inbox.ru"];

pub const RU_COMPANY_WORDS: &[&str] = &[
    "Волга", "Урал", "Сибирь", "Байкал", "Кама", "Енисей", "Ока", "Север", "Восток", "Алтай", "Ладога",
    "Нева", "Амур", "Дон", "Кедр", "Полюс", "Орбита", "Магистраль",
];

pub const RU_COMPANY_SUFFIXES: &[&str] = &[
    "Трейд", "Строй", "Сервис", "Логистик", "Софт", "Агро", "Снаб", "Пром", "Инвест", "Техно", "Маркет",
    "Групп",
];

pub const RU_POSITIONS: &[&str] = &[
    "Генеральный директор", "Коммерческий директор", "Финансовый директор", "Менеджер по продажам",
    "Менеджер по закупкам", "Бухгалтер", "Главный бухгалтер", "Руководитель проекта", "Маркетолог", "Логист",
    "Юрист", "Инженер", "Системный администратор", "Программист", "Офис-менеджер", "Аналитик",
    "Специалист по кадрам", "Начальник отдела снабжения",
];

pub const RU_SUPPORT_SUBJECTS: &[&str] = &[
    "Не могу войти в личный кабинет", "Ошибка в счёте", "Вопрос по тарифам", "Не работает импорт контактов",
    "Смена реквизитов компании", "Как добавить нового пользователя?", "Ошибка при экспорте",
    "Возврат средств",
];

pub const RU_NOTES: &[&str] = &[
    "Интересуется тарифом Pro, перезвонить после отпуска.",
    "Просит коммерческое предложение на 25 лицензий.",
    "Встреча перенесена на следующую неделю.",
    "Решение принимает собственник.",
    "Договор отправлен на подпись.",
    "Довольны внедрением, готовы рекомендовать.",
    "Предпочитает общение по телефону.",
];

// ---------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------

/// Job titles used across locales (international companies often use English ones).
pub const EN_POSITIONS: &[&str] = &[
    "CEO", "CTO", "CFO", "Sales Manager", "Account Manager", "Head of Procurement", "Marketing Manager",
    "Project Manager", "Office Manager", "Business Development Manager", "Product Owner", "Key Account Manager",
    "Software Engineer", "Operations Manager",
];

pub const WEB_PATHS: &[&str] = &[
    "/", "/pricing", "/pricing", "/features", "/features", "/features/automation", "/features/segments",
    "/integrations", "/contact", "/docs/getting-started", "/case-studies", "/about", "/demo",
];

pub const BLOG_SLUGS: &[&str] = &[
    "crm-for-small-business", "lead-scoring-101", "data-import-tips", "gdpr-checklist", "sales-pipeline-basics",
    "customer-segmentation", "email-campaigns-that-work", "from-spreadsheet-to-crm", "follow-up-templates",
    "measuring-nps",
];

pub const PRODUCTS: &[&str] = &[
    "Starter plan", "Pro plan", "Enterprise plan", "Onboarding workshop", "Support package", "Training day",
    "API add-on", "Extra storage 100 GB", "Data migration service", "Custom report",
];

pub const CAMPAIGNS: &[&str] = &[
    "newsletter-2025-01", "newsletter-2025-02", "newsletter-2025-03", "spring-promo", "webinar-invite",
    "product-update", "black-friday", "renewal-reminder", "onboarding-series", "case-study-digest",
];

pub const LINK_TARGETS: &[&str] = &[
    "https://www.example.com/pricing",
    "https://www.example.com/features",
    "https://www.example.com/webinar/registration",
    "https://www.example.com/blog/lead-scoring-101",
    "https://www.example.com/case-studies/logistics",
    "https://www.example.com/download/price-list.pdf",
    "https://www.example.com/demo",
];

pub const INDUSTRIES: &[&str] =
    &["IT", "Manufacturing", "Retail", "Logistics", "Finance", "Healthcare", "Agriculture", "Construction"];

pub const INTERESTS: &[&str] = &["CRM", "Analytics", "Cloud", "Security", "Training", "Integrations", "Mobile"];

pub const LEAD_SOURCES: &[&str] = &["web", "referral", "event", "cold_call", "partner"];

pub const COMPANY_NOTES: &[&str] = &[
    "Key account; annual contract renewed in Q1.",
    "Pays invoices late; require prepayment for new orders.",
    "Interested in the API add-on.",
    "Decision maker changed in the last quarter.",
    "Framework agreement signed for two years.",
    "Uses our product in three branches.",
];
