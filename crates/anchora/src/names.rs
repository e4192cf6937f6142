//! Word lists for demo data: names, cities, streets and titles from the countries the seeds come
//! from (Sweden, Germany, Denmark, Spain) and the UK/US.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    Se,
    De,
    Dk,
    Es,
    Uk,
    Us,
}

pub struct Locale {
    pub code: &'static str,
    pub currency: &'static str,
    pub tld: &'static str,
    pub first_names: &'static [&'static str],
    pub last_names: &'static [&'static str],
    pub cities: &'static [&'static str],
    pub streets: &'static [&'static str],
    pub company_words: &'static [&'static str],
    pub company_suffix: &'static str,
    pub titles: &'static [&'static str],
}

pub const COUNTRIES: [(Country, u32); 6] =
    [(Country::Se, 30), (Country::De, 20), (Country::Dk, 15), (Country::Es, 15), (Country::Uk, 12), (Country::Us, 8)];

pub fn locale(c: Country) -> &'static Locale {
    match c {
        Country::Se => &SE,
        Country::De => &DE,
        Country::Dk => &DK,
        Country::Es => &ES,
        Country::Uk => &UK,
        Country::Us => &US,
    }
}

static SE: Locale = Locale {
    code: "SE",
    currency: "SEK",
    tld: "se",
    first_names: &[
        "Anna", "Eva", "Maria", "Karin", "Sara", "Emma", "Elin", "Ida", "Linnéa", "Märta", "Åsa", "Ingrid", "Johanna", "Malin",
        "Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Mikael", "Björn", "Fredrik", "Oskar", "Gustav", "Nils", "Håkan", "Jörgen",
    ],
    last_names: &[
        "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson", "Gustafsson",
        "Pettersson", "Jonsson", "Lindqvist", "Lindberg", "Lindström", "Bergström", "Holm", "Sjöberg", "Wallin", "Engström",
        "Åberg", "Öberg", "Hedlund", "Lundgren", "Sandberg", "Forsberg", "Ekström", "Nyström",
    ],
    cities: &["Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping", "Helsingborg", "Jönköping", "Norrköping", "Lund", "Umeå", "Gävle", "Växjö"],
    streets: &["Storgatan", "Drottninggatan", "Kungsgatan", "Sveavägen", "Vasagatan", "Östra Hamngatan", "Södra Förstadsgatan", "Industrivägen"],
    company_words: &["Bygg", "Logistik", "Konsult", "Teknik", "Fastigheter", "Elservice", "Redovisning", "Trä", "Mekaniska", "Data"],
    company_suffix: "AB",
    titles: &["VD", "Inköpschef", "Försäljningschef", "Ekonomichef", "IT-chef", "Projektledare", "Key account manager", "Marknadsansvarig"],
};

static DE: Locale = Locale {
    code: "DE",
    currency: "EUR",
    tld: "de",
    first_names: &[
        "Anna", "Lena", "Julia", "Katharina", "Sabine", "Petra", "Claudia", "Jürgen", "Stefan", "Thomas", "Michael", "Andreas",
        "Markus", "Tobias", "Jonas", "Felix", "Lukas", "Ursula", "Monika", "Björn", "Günther", "Jörg", "Sören", "Birgit",
    ],
    last_names: &[
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch",
        "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann",
    ],
    cities: &["Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf", "Leipzig", "Dortmund", "Essen", "Bremen", "Dresden", "Nürnberg"],
    streets: &["Hauptstraße", "Bahnhofstraße", "Schulstraße", "Gartenstraße", "Lindenstraße", "Friedrichstraße", "Industriestraße"],
    company_words: &["Logistik", "Maschinenbau", "Beratung", "Bau", "Elektrotechnik", "Software", "Handel", "Immobilien", "Metallbau"],
    company_suffix: "GmbH",
    titles: &["Geschäftsführer", "Einkaufsleiter", "Vertriebsleiter", "Leiter IT", "Projektleiterin", "Key Account Managerin", "Prokurist"],
};

static DK: Locale = Locale {
    code: "DK",
    currency: "DKK",
    tld: "dk",
    first_names: &[
        "Mette", "Anne", "Hanne", "Susanne", "Camilla", "Sofie", "Ida", "Freja", "Jens", "Søren", "Niels", "Lars", "Rasmus",
        "Mads", "Frederik", "Mikkel", "Jørgen", "Bjørn", "Kirsten", "Lone", "Henrik", "Morten",
    ],
    last_names: &[
        "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen", "Jørgensen",
        "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen",
    ],
    cities: &["København", "Aarhus", "Odense", "Aalborg", "Esbjerg", "Randers", "Kolding", "Horsens", "Vejle", "Roskilde", "Herning", "Silkeborg"],
    streets: &["Vestergade", "Østergade", "Nørregade", "Søndergade", "Algade", "Strandvejen", "Industrivej", "Kongensgade"],
    company_words: &["Rådgivning", "Transport", "Byg", "Data", "Entreprise", "Handel", "Elektro", "Ejendomme", "Maskinfabrik"],
    company_suffix: "ApS",
    titles: &["Direktør", "Indkøbschef", "Salgschef", "IT-chef", "Projektleder", "Økonomichef", "Key account manager"],
};

static ES: Locale = Locale {
    code: "ES",
    currency: "EUR",
    tld: "es",
    first_names: &[
        "María", "Carmen", "Lucía", "Ana", "Laura", "Marta", "Elena", "Cristina", "Paula", "Sofía", "José", "Antonio", "Manuel",
        "Francisco", "David", "Javier", "Daniel", "Carlos", "Jesús", "Alejandro", "Íñigo", "Sergio",
    ],
    last_names: &[
        "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez",
        "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Ortega",
    ],
    cities: &["Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Murcia", "Palma", "Bilbao", "Alicante", "Córdoba", "Valladolid"],
    streets: &["Calle Mayor", "Calle Real", "Avenida de la Constitución", "Calle de Alcalá", "Paseo de Gracia", "Gran Vía", "Calle Nueva"],
    company_words: &["Construcciones", "Logística", "Consultores", "Distribuciones", "Ingeniería", "Servicios", "Inmobiliaria", "Tecnología"],
    company_suffix: "S.L.",
    titles: &["Director General", "Director Comercial", "Jefa de Compras", "Responsable de IT", "Jefe de Proyecto", "Directora Financiera"],
};

static UK: Locale = Locale {
    code: "GB",
    currency: "GBP",
    tld: "co.uk",
    first_names: &["Oliver", "George", "Harry", "Jack", "James", "William", "Amelia", "Olivia", "Isla", "Emily", "Sophie", "Charlotte", "Thomas", "Ella", "Grace"],
    last_names: &["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Hughes", "O'Brien"],
    cities: &["London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Edinburgh", "Bristol", "Liverpool", "Sheffield", "Cardiff"],
    streets: &["High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Park Road", "Mill Lane"],
    company_words: &["Consulting", "Logistics", "Engineering", "Property", "Software", "Trading", "Services", "Builders"],
    company_suffix: "Ltd",
    titles: &["Managing Director", "Head of Procurement", "Sales Director", "IT Manager", "Project Manager", "Finance Director", "Account Manager"],
};

static US: Locale = Locale {
    code: "US",
    currency: "USD",
    tld: "com",
    first_names: &["Michael", "Jennifer", "David", "Jessica", "Chris", "Ashley", "Matthew", "Sarah", "Daniel", "Emily", "Ryan", "Megan", "Tyler", "Lauren"],
    last_names: &["Miller", "Davis", "Garcia", "Rodriguez", "Martinez", "Anderson", "Moore", "Jackson", "Martin", "Lee", "Harris", "Clark", "Lewis", "Parker"],
    cities: &["New York", "Chicago", "Boston", "Seattle", "Austin", "San Francisco", "Denver", "Atlanta", "Minneapolis", "Portland"],
    streets: &["Main Street", "Oak Street", "Maple Avenue", "Washington Street", "Park Avenue", "Elm Street", "Lake Drive"],
    company_words: &["Analytics", "Solutions", "Systems", "Partners", "Industries", "Logistics", "Holdings", "Labs"],
    company_suffix: "Inc.",
    titles: &["CEO", "VP Sales", "Procurement Manager", "CTO", "Project Manager", "CFO", "Account Executive"],
};

/// ASCII form of a name for e-mail addresses and domains.
pub fn ascii_slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'å' | 'ä' | 'á' | 'à' | 'â' => out.push('a'),
            'ö' | 'ø' | 'ó' | 'ò' | 'ô' => out.push('o'),
            'æ' => out.push_str("ae"),
            'ü' | 'ú' | 'ù' => out.push('u'),
            'é' | 'è' | 'ê' => out.push('e'),
            'í' | 'ì' => out.push('i'),
            'ñ' => out.push('n'),
            'ß' => out.push_str("ss"),
            'ç' => out.push('c'),
            c if c.is_ascii_alphanumeric() => out.push(c),
            ' ' | '-' => out.push('-'),
            _ => {}
        }
    }
    out.trim_matches('-').to_string()
}
