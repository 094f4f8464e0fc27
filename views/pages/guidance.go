package pages

// Plain-language guidance for guardians, one per alert category: what the
// category means, how to talk about it, and where to find help. Written to
// be calm and practical: an alert means the platform's systems noticed
// something, usually acted on it already, and that a conversation may
// help. Never alarming, never blaming the teen.
//
// These texts are for guardians only. Teens have their own help page
// (/teen/help); neither side sees the other's.

// HelpResource is one place to find help: a name, what it offers, and a
// link or number.
type HelpResource struct {
	Name   string
	Detail string
	URL    string // https link, or "" when Detail carries a phone number
}

// Guidance is what a guardian reads about one category.
type Guidance struct {
	Category string // the API name, such as "self_harm"
	Title    string // "Self-harm"
	Means    string
	Talk     []string
	Help     []HelpResource
	// Urgent is shown first and stands out: what to do if someone may be
	// in danger right now. Only self-harm has one.
	Urgent string
}

// Help that fits any category: the platform's own tools, and advice for
// parents on everyday online life.
var generalHelp = []HelpResource{
	{Name: "Internet Matters", Detail: "Practical guides for parents on online safety, by age and topic.", URL: "https://www.internetmatters.org/"},
}

var childSafetyHelp = []HelpResource{
	{Name: "NCMEC CyberTipline (US)", Detail: "Report online exploitation of a child; 1-800-843-5678.", URL: "https://report.cybertip.org/"},
	{Name: "CEOP (UK)", Detail: "Report online sexual abuse or grooming to the police's child protection command.", URL: "https://www.ceop.police.uk/"},
	{Name: "NSPCC helpline (UK)", Detail: "Advice for adults worried about a child: 0808 800 5000.", URL: "https://www.nspcc.org.uk/"},
}

var guidance = map[string]Guidance{
	"bullying": {Category: "bullying", Title: "Bullying",
		Means: "Someone sent, or tried to send, messages the platform judged hurtful or demeaning. It often comes from people your teen knows, like classmates, and can happen again.",
		Talk: []string{
			"Pick a calm moment and ask open questions, such as \"How are things with your friends online?\"",
			"Make clear it is not their fault and that telling you will not cost them their phone or apps.",
			"Agree together on next steps: blocking the account, keeping screenshots, or talking to the school.",
		},
		Help: append([]HelpResource{{Name: "StopBullying.gov (US)", Detail: "What bullying is and how parents can respond.", URL: "https://www.stopbullying.gov/"}}, generalHelp...)},
	"harassment": {Category: "harassment", Title: "Harassment",
		Means: "Someone sent unwanted messages repeatedly or in a way meant to intimidate. The platform acted on at least one of them.",
		Talk: []string{
			"Ask whether the messages have stopped and how your teen feels about them.",
			"Reassure them that blocking and reporting are normal, sensible steps.",
			"If it continues or includes threats, keep a record and consider contacting the school or the police.",
		},
		Help: generalHelp},
	"hate": {Category: "hate", Title: "Hate",
		Means: "A message attacked people for who they are, such as their race, religion, disability, gender or sexuality.",
		Talk: []string{
			"Ask how it made them feel, and listen before giving advice.",
			"If the message was sent to them, remind them it says something about the sender, not about them.",
			"If it was sent by them, stay curious rather than angry: ask where the words came from and talk about their effect.",
		},
		Help: generalHelp},
	"self_harm": {Category: "self_harm", Title: "Self-harm",
		Urgent: "If you think your teen is in immediate danger, call your local emergency number now.",
		Means:  "A message touched on self-harm or suicide. This does not always mean your teen is at risk: they may have been supporting a friend or talking about something they saw. It is still worth checking in gently.",
		Talk: []string{
			"Find a private, unhurried moment. Say what you noticed in general terms and that you care.",
			"Asking directly about suicide does not put the idea in someone's head; it often brings relief.",
			"Listen more than you talk. Avoid judgement or punishment; thank them for telling you anything at all.",
			"Agree on who they can turn to, and consider talking to your doctor or a counsellor together.",
		},
		Help: []HelpResource{
			{Name: "988 Suicide & Crisis Lifeline (US)", Detail: "Call or text 988, any time, free and confidential.", URL: "https://988lifeline.org/"},
			{Name: "Samaritans (UK and Ireland)", Detail: "Call 116 123, any time, free.", URL: "https://www.samaritans.org/"},
			{Name: "Find a Helpline (elsewhere)", Detail: "Free, confidential helplines in your country.", URL: "https://findahelpline.com/"},
		}},
	"sexual_content": {Category: "sexual_content", Title: "Sexual content",
		Means: "A message contained, or asked for, sexual material. The platform limits this for teens.",
		Talk: []string{
			"Keep the tone matter-of-fact: curiosity is normal, and being sent something is never their fault.",
			"Remind them that nobody should pressure them to send pictures, and that they can always say no and tell you.",
			"If an adult was involved, or images of your teen were shared, report it (see below).",
		},
		Help: append(append([]HelpResource{}, childSafetyHelp...), generalHelp...)},
	"grooming": {Category: "grooming", Title: "Grooming",
		Means: "The platform saw signs that someone may be trying to build a trusting relationship with your teen in order to exploit them, for example by flattery, gifts or asking for secrecy.",
		Talk: []string{
			"Start from their side: people who groom are skilled and friendly, and being targeted is never your teen's fault.",
			"Ask who they talk to online that they have not met in person, without judging them.",
			"Blocking the account here stops its messages at once. Keep any records and report it (see below).",
		},
		Help: append(append([]HelpResource{}, childSafetyHelp...), generalHelp...)},
	"sextortion": {Category: "sextortion", Title: "Sextortion",
		Means: "Someone may be threatening to share intimate images unless your teen pays or sends more. This is a crime, and it is the offender's fault, never your teen's.",
		Talk: []string{
			"Tell your teen first that they are not in trouble and that you will help, whatever happened.",
			"Do not pay and do not send anything more. Stop replying, but keep the messages as evidence.",
			"Images can often be removed: see Take It Down below, and report to the police.",
		},
		Help: append([]HelpResource{{Name: "Take It Down (NCMEC)", Detail: "Helps remove nude or sexual images of under-18s from participating platforms.", URL: "https://takeitdown.ncmec.org/"}},
			childSafetyHelp...)},
	"violence": {Category: "violence", Title: "Violence",
		Means: "A message contained violent threats or graphic violence.",
		Talk: []string{
			"Ask whether they feel safe, online and offline.",
			"If there was a specific threat against your teen or anyone else, contact the police.",
			"Talk about what they have been seeing online and how it affects them.",
		},
		Help: generalHelp},
	"scam": {Category: "scam", Title: "Scam",
		Means: "A message looked like an attempt to trick your teen out of money, passwords or personal details.",
		Talk: []string{
			"Share the common signs: urgency, prizes, requests for codes or gift cards, or links to log in.",
			"Check together whether they replied, clicked a link or shared anything; change passwords if so.",
			"No shame: scams fool adults every day.",
		},
		Help: append([]HelpResource{{Name: "ReportFraud.ftc.gov (US)", Detail: "Report scams and get advice on what to do next.", URL: "https://reportfraud.ftc.gov/"}}, generalHelp...)},
	"spam": {Category: "spam", Title: "Spam",
		Means: "Unwanted bulk or promotional messages. Usually harmless, and the platform filters most of it.",
		Talk: []string{
			"Nothing needs doing straight away. A quick reminder not to click links from strangers is enough.",
		},
		Help: generalHelp},
	"other": {Category: "other", Title: "Another concern",
		Means: "The platform flagged a message for a reason outside the usual categories.",
		Talk: []string{
			"A light check-in is usually enough: ask how things are going online.",
		},
		Help: generalHelp},
}

// GuidanceFor returns the guidance for a category's API name; an unknown
// name gets the "other" guidance.
func GuidanceFor(category string) Guidance {
	if g, ok := guidance[category]; ok {
		return g
	}
	return guidance["other"]
}
