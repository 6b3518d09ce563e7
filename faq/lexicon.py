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
        really getting i'd i've don't dont can't cannot let there's it's
        """,
}
"""Function words, question words, pronouns, politeness: they carry little weight."""

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
    щиро much so you a lot
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

URGENT_PATTERNS: tuple[str, ...] = (
    # violence, domestic violence, sexual violence, threats
    "насильство|насилля|насилие|насилуют|przemoc|violence|abuse|abused|зґвалтування"
    "|згвалтували|изнасилование|изнасиловали|gwałt|zgwałcił|rape|raped",
    "мене|мене|меня|mnie|me|дитину|ребенка|dziecko|child|жінку|жену|żonę|wife"
    " + б'є|бьет|бьют|побив|побили|избил|избили|бив|бил|bije|biją|pobił|beats|hits|beat",
    "вбити|убить|zabić|kill + погрожує|погрожують|угрожает|угрожают|grozi|grożą|threatens",
    # trafficking, forced labour, passport taken by an employer
    "торгівля людьми|торговля людьми|handel ludźmi|trafficking|трафікінг|human trafficking",
    "примусова праця|принудительный труд|praca przymusowa|forced labour|forced labor",
    "роботодавець|работодатель|pracodawca|employer|шеф|бригадир|агенція|агентство|agencja"
    "|agency|boss + паспорт|паспорта|документи|документы|paszport|dokumenty|passport"
    "|documents + забрав|забрала|забрали|відібрав|відібрали|отобрал|отобрали|zabrał|zabrali"
    "|took|taken|keeps|тримає|держит|trzyma",
    "тримають під замком|держат взаперти|не випускають|не выпускают|nie wypuszczają"
    "|locked in|won't let me leave",
    # suicide, self-harm
    "суїцид|суицид|самогубство|самоубийство|samobójstwo|suicide|suicidal|самогубства"
    "|покінчити з собою|покончить с собой|вбити себе|убить себя|kill myself|zabić się"
    "|не хочу жити|не хочу жить|nie chcę żyć|want to die|хочу померти|хочу умереть"
    "|chcę umrzeć|self-harm|self harm|порізати себе|ріжу себе|режу себя|samookaleczenie"
    "|самоушкодження|самоповреждение",
    # detention or arrest by the police or the Border Guard
    "поліція|поліції|полиция|полиции|policja|police|прикордонники|прикордонна|пограничники"
    "|пограничная|straż graniczna|border guard|поліцейські|полицейские"
    " + затримали|затримала|затримав|задержали|задержала|задержал|zatrzymali|zatrzymała"
    "|zatrzymał|arrested|detained|арештували|арестовали|aresztowali|забрали|забрала|zabrali"
    "|took",
    "арештували мене|арестовали меня|aresztowali mnie|i was arrested|i am detained"
    "|i was detained|заарештували|депортують|депортируют|deportują|being deported"
    "|ośrodek strzeżony|strzeżony ośrodek|detention centre|detention center",
    # a child at risk
    "дитина|ребенок|дитину|ребенка|dziecko|child + в небезпеці|в опасности"
    "|w niebezpieczeństwie|in danger|зникла|пропал|пропала|zaginęło|zaginął|missing",
)
"""Danger patterns: groups joined by ``+`` must all be present (any order); within a group
``|`` separates alternatives, and an alternative of several words is a phrase (in order,
words at most two apart)."""
