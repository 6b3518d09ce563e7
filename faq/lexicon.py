"""Word lists the matcher needs besides the knowledge base: function words and intents.

Words are written as people type them; the matcher passes them through the same
normalisation, skeleton and stemming as messages, so one spelling covers its inflections,
its Latin transliteration and its wrong-layout form.
"""

from __future__ import annotations

STOP_WORDS: dict[str, str] = {
    "uk": """
        я ти ви він вона воно ми вони мене мені мій моя моє мої мого моєї моїй моїм
        тебе тобі твій твоя ваш ваша ваше ваші вам вас нам нас наш наша нашої його її їх їм їй
        себе свій своя своє свої свого своїй собі це цей ця ці цього цієї той та те ті того там тут
        і й та а але або чи що шо як де коли куди звідки чому навіщо хто який яка яке які якого
        якої якій якщо щоб бо тому також теж ще вже лише тільки навіть дуже можна можу може можуть
        треба потрібно потрібен потрібна потрібні нада треба маю має мають є був була було були буде
        бути будь ласка хочу хоче хочемо хотіла хотів хотіли скажіть підкажіть підкажи скажи
        допоможіть будь-ласка прошу добрий день вечір ранок привіт вітаю дякую в у на з із зі за до
        від по про для без під над при через між після перед біля коло о об не ні так ось чи-то
        так-як тобто нам-треба все всі весь вся всього щось десь якось хтось ніхто нічого нема немає
        то ж же би б ну ой ага окей ок зараз тепер зробити робити взагалі просто сам сама
        свою мою йому ним них нього неї всім котрий чим кому к типу ну-а дуже-дуже
        """,
    "ru": """
        я ты вы он она оно мы они меня мне мой моя мое мои моего моей моим тебя тебе твой твоя ваш
        ваша ваше ваши вам вас нам нас наш наша нашей
        его ее их им ей себя свой своя свое свои своего
        своей себе это этот эта эти этого этой тот та то те
        того там тут и а но или ли что чтo как где
        когда куда откуда почему зачем кто какой какая какое какие какого какой каком если чтобы
        потому также тоже еще уже лишь только даже очень можно могу может могут надо нужно нужен
        нужна нужны есть был была было были будет быть пожалуйста хочу хочет хотим хотела хотел
        хотели скажите подскажите подскажи скажи помогите прошу добрый день вечер утро привет
        здравствуйте спасибо в во на с со за до от по про для без под над при через между после
        перед около о об не ни да вот все всё весь вся всего что-то где-то как-то кто-то никто
        ничего нет то ж же бы б ну ой ага окей ок сейчас теперь сделать делать вообще просто
        сам сама самому свою мою ему ней ним них него нее всем которые который которая чем
        чему кому у из к ко типа
        """,
    "pl": """
        ja ty wy on ona ono my oni mnie mi mój moja moje moi mojego mojej ciebie tobie twój twoja
        wasz wasza wasze wam was nam nas nasz nasza
        jego jej ich im siebie swój swoja swoje sobie się
        to ten ta te tego tej tam tu tutaj i a
        ale albo lub czy co jak gdzie kiedy dokąd skąd dlaczego
        czemu po co kto który która które jaki jaka jakie jeśli jezeli jeżeli żeby bo więc też także
        jeszcze już tylko nawet bardzo można mogę może mogą trzeba potrzebuję potrzebny potrzebna
        mam ma mają jest są był była było były będzie być proszę chcę chce chciałam chciałem
        powiedz pomóż pomocy dzień dobry cześć witam dziękuję w we na z ze za do od po o dla bez pod
        nad przy przez między po przed obok nie tak oto wszystko wszyscy coś ktoś nikt nic ok okej
        teraz zrobić robić moją swoją u aby czym komu sie jakie jaki jakiś
        """,
    "en": """
        i me my mine you your yours he him his she her it its we us our they them their this that
        these those there here and or but if whether what how where when why who whom which whose
        so because also too yet already only even very can could may might must should would will
        shall do does did done doing is are was were be been being am have has had having need
        needs want wants please hello hi hey thanks thank in on at to from of for with without by
        about into over under after before between near not no yes a an the any some all anything
        something someone nothing get got i'm im ok okay now make as like than then just
        really getting i'd i've don't dont can't cannot let there's it's much many
        """,
}
"""Function words, question words, pronouns, politeness: they carry little weight."""

FRAMING_WORDS: dict[str, str] = {
    "uk": """
        важливо важливе варто дізнатися враховувати врахувати слід необхідно
        відбувається проходить виглядає процедура процедури процедуру процедурі особливості
        нюанси алгоритм покроково інструкція детально пояснюємо розповідаємо
        актуальні актуально основні
        """,
    "ru": """
        важно важное узнать учитывать учесть следует необходимо
        происходит проходит выглядит процедура процедуры процедуру процедуре особенности
        нюансы алгоритм пошагово инструкция подробно объясняем рассказываем
        актуальные актуально основные
        """,
    "pl": """
        ważne ważny warto dowiedzieć uwzględnić należy należało niezbędne
        odbywa przebiega wygląda procedura procedury procedurę procedurze szczegóły
        niuanse algorytm poradnik przewodnik wskazówki aktualne najważniejsze ogólne
        """,
    "en": """
        important consider necessary essential happens
        procedure procedures process overview guide tips details explained explain
        current key general
        """,
}
"""How guides and formal questions frame a question ("що важливо знати", "jak wygląda
procedura", "what you should know"): the frame, not the need. Read as function words by the
matcher only (not by the intent detector), so a long, formal question is not diluted by
words no entry is about (issue 17)."""

GREETING_WORDS = """
    привіт привітик вітаю добрий доброго день дня вечір вечора ранок ранку здоровенькі були
    hello hi hey hallo hiya good morning afternoon evening
    привет приветик здравствуйте здравствуй здрасте доброе добрый утро вечер
    dzień dobry cześć witam witaj hej siema dobry wieczór
    slava ukraini слава україні героям
"""

THANKS_WORDS = """
    дякую дякуємо дяки спасибі спасибо благодарю благодарим спс пасиб сенкс thanks thank thx
    ty tnx cheers dzięki dziękuję dziękujemy dzieki dziekuje wielkie bardzo большое велике дуже
    щиро much so you a lot заранее заздалегідь наперед advance góry
"""

FILLER_WORDS = """
    ок окей ok okay добре хорошо ладно понятно зрозуміло ясно все всё великолепно чудово super
    супер класс клас дуже очень вам тобі тебе вас і и та a and all good great fine dobrze
    rozumiem jasne świetnie pani pan панове пані друзі люди bot бот ботик
"""
"""Words that may surround a greeting or a thank-you without making it a question."""

HUMAN_NOUNS = """
    консультант консультанта консультантом консультанту консультантка оператор оператора
    оператором менеджер менеджером людина людиною людини людину человек человеком живой жива
    живий живым реальна реальный реальною реальным адміністратор администратор адмін админ
    співробітник сотрудник сотрудником працівник працівником спеціаліст специалист
    konsultant konsultantem konsultantka operator operatorem człowiek człowiekiem osoba osobą
    pracownik pracownikiem
    consultant operator human person someone somebody agent representative staff
"""

HUMAN_VERBS = """
    поговорити говорити розмовляти поспілкуватися зв'язатися звязатися з'єднайте зєднайте
    з'єднати покличте покликати переключіть переключити передайте напишіть
    поговорить говорить разговаривать пообщаться связаться соедините соединить позовите позвать
    переключите переключить передайте
    rozmawiać porozmawiać pogadać połączyć połącz skontaktować kontakt
    talk speak chat connect contact reach transfer
"""

HUMAN_PHRASES = (
    "жива людина",
    "живий консультант",
    "живой человек",
    "живой оператор",
    "реальна людина",
    "реальный человек",
    "real person",
    "real human",
    "live person",
    "live agent",
    "human being",
    "żywy człowiek",
    "prawdziwy człowiek",
    "з людиною",
    "с человеком",
    "z człowiekiem",
    "to a human",
    "to a person",
    "to someone",
    "to somebody",
    "з консультантом",
    "с консультантом",
    "z konsultantem",
    "з оператором",
    "с оператором",
    "z operatorem",
)

URGENT_GROUPS: dict[str, str] = {
    # who: a child ...
    "child": "дитина|дитину|дитини|дитя|малюк|малий|мала|син|сина|синок|донька|доньку|дочка"
    "|дочку|немовля|ребенок|ребенка|ребенку|ребёнок|малыш|сын|сына|дочь|младенец|грудничок"
    "|dziecko|dziecka|synek|syn|córka|córeczka|niemowlę|maluch|child|kid|baby|son|daughter"
    "|toddler|infant|boy|girl",
    # ... or anyone close
    "someone": "{child}|людина|людині|чоловік|чоловіка|жінка|дружина|мама|мати|тато|батько"
    "|бабуся|дідусь|брат|сестра|друг|подруга|сусід|сусідка|колега|хтось|человек|муж|мужа"
    "|жена|мать|папа|отец|бабушка|дедушка|соседка|сосед|коллега|кто-то|człowiek|osoba|mąż"
    "|żona|mama|tata|ojciec|matka|babcia|dziadek|siostra|kolega|sąsiad|ktoś|person|man|woman"
    "|husband|wife|mother|father|mom|mum|dad|grandma|grandpa|brother|sister|friend|neighbour"
    "|neighbor|someone|somebody|colleague",
}
"""Named alternatives a pattern may use as ``{name}`` (who the emergency happens to)."""

URGENT_PATTERNS: dict[str, tuple[str, ...]] = {
    # Kinds in order of precedence: the first kind whose pattern matches is the one reported.
    "medical": (
        # not breathing, choking
        "не дихає|не дихав|не дихала|не дише|не може дихати|не можу дихати|перестав дихати"
        "|перестала дихати|важко дихати|важко дихає|задихається|задихаюсь|задихаюся|задихнувся"
        "|задихнулася|задушився|подавився|подавилася|подавилась"
        "|не дышит|не дышал|не дышала|не может дышать|не могу дышать|перестал дышать"
        "|перестала дышать|трудно дышать|тяжело дышит|задыхается|задыхаюсь|задохнулся"
        "|подавился|подавилась|поперхнулся"
        "|nie oddycha|nie oddychał|nie oddychała|nie może oddychać|nie mogę oddychać"
        "|przestał oddychać|przestała oddychać|ciężko oddycha|dusi się|duszę się|zakrztusił"
        "|zakrztusiła|zadławił|zadławiła"
        "|not breathing|stopped breathing|isn't breathing|can't breathe|cannot breathe"
        "|cant breathe|trouble breathing|struggling to breathe|choking",
        # unconscious, fainted, unresponsive
        "без свідомості|втратив свідомість|втратила свідомість|знепритомнів|знепритомніла"
        "|зомлів|зомліла|непритомний|непритомна|не приходить до тями|не прокидається"
        "|без сознания|потерял сознание|потеряла сознание|упал в обморок|упала в обморок"
        "|в обмороке|не приходит в себя|не просыпается"
        "|nieprzytomny|nieprzytomna|stracił przytomność|straciła przytomność|zemdlał"
        "|zemdlała|nie można go obudzić|nie można jej obudzić"
        "|unconscious|passed out|fainted|lost consciousness|won't wake up|unresponsive"
        "|not waking up",
        "{someone} + не реагує|не реагирует|nie reaguje|not responding|doesn't respond",
        # heavy bleeding
        "кровотеча|кров не зупиняється|кров не зупинити|сильно кровоточить|стікає кров'ю"
        "|багато крові|кровотечение|кровь не останавливается|сильно кровоточит"
        "|истекает кровью|много крови|krwotok|krew nie przestaje|krew leci|mocno krwawi"
        "|dużo krwi|bleeding heavily|bleeding a lot|heavy bleeding|won't stop bleeding"
        "|lot of blood|bleeding badly",
        # heart
        "серцевий напад|сердечний напад|інфаркт|біль у грудях|болить у грудях|болить в грудях"
        "|пече в грудях|тисне в грудях|болить серце|зупинка серця|серце зупинилося"
        "|сердечный приступ|инфаркт|боль в груди|болит в груди|давит в груди|болит сердце"
        "|остановка сердца|сердце остановилось|zawał|ból w klatce|boli w klatce|ból serca"
        "|boli serce|zatrzymanie krążenia|heart attack|chest pain|pain in chest|chest hurts"
        "|cardiac arrest|heart stopped",
        # stroke
        "інсульт|перекосило обличчя|перекосило рот|оніміла рука|оніміла половина|віднялася"
        "|віднялась|заплітається язик|инсульт|перекосило лицо|онемела рука|отнялась"
        "|отнялась рука|заплетается язык|udar|opadnięty kącik|zdrętwiała ręka"
        "|bełkotliwa mowa|a stroke|having a stroke|stroke symptoms|face drooping"
        "|face is drooping|slurred speech",
        # poisoning, overdose, swallowed something
        "отруєння|отруївся|отруїлася|отруїлась|отруїлися|передозування|передозував"
        "|наковтався|наковталася|отравление|отравился|отравилась|отравились|передозировка"
        "|передоз|наглотался|наглоталась|zatrucie|zatruł|zatruła|zatruli|przedawkowanie"
        "|przedawkował|przedawkowała|poisoning|poisoned|overdose|overdosed",
        "{child} + проковтнув|проковтнула|ковтнув|ковтнула|випив|випила|з'їв|з'їла|проглотил"
        "|проглотила|выпил|выпила|съел|съела|połknął|połknęła|wypił|wypiła|zjadł|zjadła"
        "|swallowed|drank|ate + таблетки|таблеток|ліки|ліків|отруту|хімію|батарейку|магніт"
        "|відбілювач|таблетки|лекарства|яд|химию|батарейку|магнит|отбеливатель|tabletki"
        "|leki|truciznę|chemię|baterię|magnes|wybielacz|pills|tablets|medicine|poison|bleach"
        "|battery|magnet|detergent",
        # a child who fell or was hurt
        "{child} + впала|впав|упала|упав|випала|випав|упал|выпал|выпала|spadł|spadła|wypadł"
        "|wypadła|fell|fallen + з|із|зі|с|со|z|ze|from|off|down|головою|головой|głową|head"
        "|вниз",
        "{child} + вдарився головою|вдарилася головою|вдарилась головою|ударился головой"
        "|ударилась головой|uderzył się w głowę|uderzyła się w głowę|hit his head|hit her head"
        "|hit the head|травма голови|травма головы|uraz głowy|head injury",
        "{child} + обпікся|обпеклася|обпеклась|обварився|обварилася|обжегся|обожглась"
        "|ошпарился|ошпарилась|poparzył|poparzyła|oparzył|burned|burnt|scalded"
        "|порізався|порезался|skaleczył",
        # seizures
        "судоми|судомить|судома|судороги|судорога|припадок|епілептичний напад|напад епілепсії"
        "|эпилептический приступ|приступ эпилепсии|drgawki|konwulsje|atak padaczki"
        "|napad padaczki|seizure|seizures|convulsions|convulsing|epileptic fit|having a fit",
        # drowning
        "{someone} + тоне|тонет|tonie|is drowning",
        "потонув|потонула|втопився|втопилася|захлинувся|захлинулася|утонул|утонула|утопился"
        "|захлебнулся|захлебнулась|utonął|utonęła|topi się|drowning|drowned",
        # dying, other acute emergencies
        "{someone} + помирає|вмирає|умирает|umiera|is dying",
        "набряк горла|набрякло горло|набряк язика"
        "|отек горла|отек гортани|отёк горла|опух язык|obrzęk gardła|spuchło gardło"
        "|anafilaks|анафілак|анафилак|anaphyla|throat is swelling|throat swelling"
        "|відійшли води|почалися пологи|почались пологи|народжує|отошли воды|начались роды"
        "|рожает|odeszły wody|zaczął się poród|rodzi|water broke|waters broke|in labour"
        "|in labor|giving birth",
        "{someone} + збила машина|збив автомобіль|потрапив під машину|потрапила під машину"
        "|сбила машина|сбил автомобиль|попал под машину|попала под машину|potrącił samochód"
        "|potrąciło auto|hit by a car|run over",
    ),
    "suicide": (
        "суїцид|суицид|самогубство|самоубийство|samobójstwo|suicide|suicidal|самогубства"
        "|покінчити з собою|покончить с собой|вбити себе|убить себя|kill myself|zabić się"
        "|не хочу жити|не хочу жить|nie chcę żyć|want to die|хочу померти|хочу умереть"
        "|chcę umrzeć|self-harm|self harm|порізати себе|ріжу себе|режу себя|samookaleczenie"
        "|самоушкодження|самоповреждение|не бачу сенсу жити|не вижу смысла жить"
        "|end my life|накласти на себе руки|наложить на себя руки",
    ),
    "violence": (
        "насильство|насилля|насилие|насилуют|przemoc|violence|abuse|abused|зґвалтування"
        "|згвалтували|изнасилование|изнасиловали|gwałt|zgwałcił|rape|raped",
        # "б'є" reads as English "be": only next to whom it is about
        "б'є мене|мене б'є|б'є нас|нас б'є|б'є дитину|б'є дітей|б'є жінку|б'є його|його б'є"
        "|б'є маму|bije mnie|mnie bije|bije nas|nas bije|bije dziecko|bije dzieci|bije żonę"
        "|bije mamę",
        "мене|меня|mnie|me|{someone} + бьет|бьют|побив|побили|избил|избили|бив|бил"
        "|biją|pobił|beats|hits|beat",
        "вбити|убить|zabić|kill + погрожує|погрожують|угрожает|угрожают|grozi|grożą|threatens",
    ),
    "danger": (
        "в небезпеці|в опасности|w niebezpieczeństwie|in danger|рятуйте|спасите|ratunku"
        "|мені погрожують|мне угрожают|grożą mi|threatening me|боюся за своє життя"
        "|боюсь за свою жизнь|boję się o swoje życie|afraid for my life|fear for my life",
        "мене|меня|mnie|me|нас|nas|us|{someone} + переслідує|переслідують|преследует"
        "|преследуют|śledzi|prześladuje|stalking|stalks|is following",
        "ломиться в двері|ломляться в двері"
        "|ломится в дверь|ломятся в дверь|dobija się do drzwi|trying to break in"
        "|breaking in|з ножем|с ножом|z nożem|with a knife|з пістолетом|с пистолетом"
        "|z bronią|with a gun",
        "викрали|похитили|porwali|porwał|kidnapped|abducted",
        "{someone} + зник|зникла|зникли|пропал|пропала|пропали|zaginął|zaginęła|zaginęło"
        "|is missing|went missing|disappeared",
        "пожежа в|пожежа у|горить квартира|горить будинок|горить дім|пожар в|пожар у"
        "|горит квартира|горит дом|pali się|pożar w|pożar mieszkania|on fire|fire in"
        "|пахне газом|запах газу|витік газу|пахнет газом|запах газа|утечка газа|czuć gaz"
        "|zapach gazu|wyciek gazu|smell gas|smells of gas|gas leak",
    ),
    "trafficking": (
        "торгівля людьми|торговля людьми|handel ludźmi|trafficking|трафікінг|human trafficking",
        "примусова праця|принудительный труд|praca przymusowa|forced labour|forced labor",
        "роботодавець|работодатель|pracodawca|employer|шеф|бригадир|агенція|агентство|agencja"
        "|agency|boss + паспорт|паспорта|документи|документы|paszport|dokumenty|passport"
        "|documents + забрав|забрала|забрали|відібрав|відібрали|отобрал|отобрали|zabrał|zabrali"
        "|took|taken|keeps|тримає|держит|trzyma",
        "тримають під замком|держат взаперти|не випускають|не выпускают|nie wypuszczają"
        "|locked in|won't let me leave",
    ),
    "arrest": (
        "поліція|поліції|полиция|полиции|policja|police|прикордонники|прикордонна|пограничники"
        "|пограничная|straż graniczna|border guard|поліцейські|полицейские"
        " + затримали|затримала|затримав|задержали|задержала|задержал|zatrzymali|zatrzymała"
        "|zatrzymał|arrested|detained|арештували|арестовали|aresztowali|забрали|забрала|zabrali"
        "|took",
        "арештували мене|арестовали меня|aresztowali mnie|i was arrested|i am detained"
        "|i was detained|заарештували|депортують|депортируют|deportują|being deported"
        "|ośrodek strzeżony|strzeżony ośrodek|detention centre|detention center",
    ),
    "shelter": (
        # nowhere to sleep tonight, on the street, thrown out
        "нема де ночувати|немає де ночувати|ніде ночувати|нема де спати|немає де спати"
        "|ніде спати|нема де переночувати|ніде переночувати|нема куди йти|немає куди йти"
        "|нікуди йти|нема де жити|ніде жити|нема де жить|опинилися на вулиці|опинились на вулиці"
        "|опинилась на вулиці|опинився на вулиці|ночуємо на вокзалі|ночую на вокзалі"
        "|ночуємо на вулиці|ночую на вулиці|спимо на вокзалі|сплю на вокзалі|сплю на вулиці"
        "|спимо на вулиці|вигнали з квартири|вигнали з житла|вигнали на вулицю|вигнав з дому"
        "|вигнала з дому|безхатько|бездомні|бездомний|бездомна|притулок на ніч"
        "|нічліжка|ночліжка|переночувати сьогодні|ночувати сьогодні",
        "негде ночевать|негде спать|негде переночевать|некуда идти|некуда пойти|негде жить"
        "|нет где ночевать|нема где ночевать|оказались на улице|оказалась на улице"
        "|оказался на улице|остались на улице|ночуем на вокзале|ночую на вокзале"
        "|ночуем на улице|ночую на улице|спим на вокзале|сплю на вокзале|сплю на улице"
        "|спим на улице|выгнали из квартиры|выгнали на улицу|выгнал из дома|выгнала из дома"
        "|бездомный|бездомные|бездомная|ночлежка|приют на ночь|переночевать сегодня"
        "|ночевать сегодня",
        "nie mam gdzie spać|nie mamy gdzie spać|nie mam gdzie nocować|nie mamy gdzie nocować"
        "|nie mam gdzie przenocować|nie mam gdzie mieszkać|nie mamy gdzie mieszkać"
        "|nie mam dokąd pójść|nie mamy dokąd pójść|śpię na dworcu|śpimy na dworcu"
        "|śpię na ulicy|śpimy na ulicy|jesteśmy na ulicy|zostaliśmy na ulicy|wyrzucili nas"
        "|wyrzucili mnie|wyrzucił nas|wyrzucił mnie|bezdomny|bezdomna|bezdomni"
        "|noclegownia|nocleg na dziś|nocleg dzisiaj|przenocować dziś",
        "nowhere to sleep|nowhere to stay|no place to sleep|no place to stay|nowhere to go"
        "|sleeping on the street|sleep on the street|sleeping at the station"
        "|sleeping in the street|on the street with|kicked us out|kicked me out|thrown out"
        "|homeless|place to sleep tonight|shelter for tonight|shelter tonight"
        "|somewhere to sleep tonight|stay tonight|sleep tonight",
    ),
}
"""Danger patterns by kind: groups joined by ``+`` must all be present (any order); within a
group ``|`` separates alternatives, an alternative of several words is a phrase (in order,
words at most two apart), and ``{name}`` stands for the alternatives of
:data:`URGENT_GROUPS`. They say what happens (a symptom, a threat, a night outside), not
what one asks about: "не дихає", not "швидка"."""

URGENT_DISARM: dict[str, tuple[str, ...]] = {
    # Spans that make a symptom a matter of the past or of care, not of now: the words they
    # cover are taken out before the kind's patterns are tried ("реабілітація після
    # інсульту" is not an emergency; "після інсульту знову перекосило обличчя" still is).
    # Only ever spans (never "a pet is mentioned": "собака вкусила дитину, кров не
    # зупиняється" must stay urgent).
    "medical": (
        "після|після перенесеного|после|после перенесенного|po|after + інсульту|інфаркту"
        "|отруєння|судом|передозування|инсульта|инфаркта|отравления|судорог|передозировки"
        "|udarze|zawale|zatruciu|drgawkach|stroke|heart attack|poisoning|overdose",
        "перенесла|переніс|перенесла|перенес|мала|мав|була|был|была|przeszła|przeszedł|miał"
        "|miała|had + інсульт|інфаркт|инсульт|инфаркт|udar|zawał|stroke|heart attack",
        "інсульт|інфаркт|отруєння|судоми|инсульт|инфаркт|отравление|судороги|udar|zawał"
        "|zatrucie|drgawki|stroke|heart attack|seizure + рік тому|років тому|роки тому"
        "|місяць тому|місяці тому|тиждень тому|год назад|лет назад|года назад|месяц назад"
        "|неделю назад|rok temu|lata temu|lat temu|miesiąc temu|tydzień temu|year ago"
        "|years ago|month ago|months ago|week ago|минулого року|прошлом году|zeszłym roku"
        "|last year",
    ),
    "danger": (
        # persecution at home is a question about protection, not an emergency here
        "переслідують|переслідує|преследуют|преследует|prześladują|prześladuje|persecuted"
        " + на батьківщині|вдома в|в моїй країні|на родине|в моей стране|дома в|w ojczyźnie"
        "|w moim kraju|in my country|back home|at home in",
    ),
    "shelter": (
        "бездомні|бездомних|бездомные|бездомных|bezdomne|bezdomnych|bezdomnym|homeless"
        "|stray + тварини|тварин|собаки|собак|котів|коти|кошки|кошек|животные|животных"
        "|zwierzęta|zwierząt|psy|psów|koty|kotów|animals|dogs|cats|pets",
        "волонтер|волонтером|волонтерів|волонтёр|волонтеров|wolontariusz|wolontariat"
        "|volunteer|volunteering|допомогти|помочь|pomóc|pomagać|help|donate|пожертвувати"
        "|пожертвовать + бездомним|бездомних|бездомным|бездомных|bezdomnym|bezdomnych"
        "|the homeless",
    ),
}
"""Per kind: spans that, where present, are taken out of the message before that kind's
patterns are tried (same syntax as :data:`URGENT_PATTERNS`)."""

SOCIAL_PHRASES: tuple[str, ...] = (
    # greetings
    "добрий день",
    "доброго дня",
    "добрий вечір",
    "доброго вечора",
    "доброго ранку",
    "добрий ранок",
    "привіт",
    "вітаю",
    "слава україні",
    "добрый день",
    "доброго дня",
    "добрый вечер",
    "доброе утро",
    "привет",
    "здравствуйте",
    "здравствуй",
    "здрасте",
    "dzień dobry",
    "dobry wieczór",
    "cześć",
    "witam",
    "witam serdecznie",
    "hej",
    "hello",
    "hi",
    "hey",
    "good morning",
    "good afternoon",
    "good evening",
    # thanks and politeness (thanks in advance first: the longer span wins)
    "дякую заздалегідь",
    "заздалегідь дякую",
    "наперед дякую",
    "дякую наперед",
    "дякую заранее",
    "заранее дякую",
    "дуже дякую",
    "дякую",
    "спасибі",
    "спасибо заранее",
    "заранее спасибо",
    "заранее благодарю",
    "большое спасибо",
    "спасибо большое",
    "спасибо",
    "благодарю",
    "z góry dziękuję",
    "dziękuję z góry",
    "dziękuję bardzo",
    "bardzo dziękuję",
    "dziękuję",
    "dzięki",
    "thanks in advance",
    "thank you in advance",
    "thank you very much",
    "thank you",
    "thanks",
    "будь ласка",
    "пожалуйста",
    "proszę",
    "please",
    "if possible",
    "якщо можна",
    "если можно",
    "jeśli można",
)
"""Greetings, thanks and politeness around a question: the reader leaves them out of the
question's words (the intent detector still sees them: "дякую" alone is thanks)."""

INTRO_PHRASES: tuple[str, ...] = (
    "мене звати",
    "мое ім'я",
    "моє ім'я",
    "меня зовут",
    "мое имя",
    "nazywam się",
    "mam na imię",
    "moje imię to",
    "my name is",
    "my name's",
)
"""A self-introduction: the phrase and the name after it (one or two words) are left out."""

KIN_WORDS = """
    донька доньки доньці доньку дочка дочки дочці дочку син сина сину синові дружина дружини
    чоловік чоловіка мама мами мамі тато тата мати матері бабуся бабусі брат брата сестра сестри
    онук онука онучка онучки
    дочь дочери дочке дочку сын сына сыну жена жены мужа муж мамы маме папа папы отец отца
    бабушка бабушки брата сестры внук внука внучка внучки
    córka córki córce syn syna synowi żona żony mąż męża mama mamy tata taty brat brata
    siostra siostry wnuk wnuka wnuczka wnuczki
    daughter son wife husband mother mom mum father dad brother sister grandson granddaughter
"""
"""After one of these, an unknown word is a name ("для доньки Марічки"): left out."""

CHILD_WORDS: dict[str, str] = {
    "дитина": "донька доньки доньці доньку донечка донечки дочка дочки дочці дочку син сина сину"
    " синові синок синочка синочку",
    "ребенка": "дочь дочери дочке дочку дочка дочки доченька сын сына сыну сынок сыночка",
    "dziecko": "córka córki córce córkę córeczka córeczki syn syna synowi synek synka",
    "child": "daughter daughters son sons",
}
"""A son or a daughter is, for the knowledge base, a child: the reader reads these words as
the language's word for a child ("песель для доньки" is "песель для дитини")."""
