# Kundentexte auf Deutsch (O3); dieselben Nachrichten wie en.ftl.

## Routing notices (R11)
nobody-available = Gerade sind alle unsere Mitarbeitenden im Gespräch. Ihre Nachricht ist gespeichert, und wir antworten, sobald jemand frei ist.

## Consent (G1)
consent-how-to-answer = Bitte antworten Sie mit JA, um zuzustimmen, oder mit NEIN, um abzulehnen.

## Default auto-action scripts (A1–A3, W2, Q1, Q2)
first-message = Hallo{ $name }! Danke für Ihre Nachricht an { $channel }. Gleich meldet sich jemand aus unserem Team.
no-answer = Entschuldigen Sie die Wartezeit: Gerade sind alle im Gespräch. Wir antworten so bald wie möglich.
closed = Danke, dass Sie { $channel } kontaktiert haben. Dieses Gespräch ist jetzt beendet; schreiben Sie uns einfach wieder, wenn Sie noch etwas brauchen.
off-hours-until = Danke für Ihre Nachricht! Wir sind gerade nicht da und ab { $opens } wieder erreichbar. Dann antworten wir Ihnen.
off-hours = Danke für Ihre Nachricht! Wir sind gerade nicht da und antworten, sobald wir wieder erreichbar sind.
off-hours-time-format = %d.%m. um %H:%M Uhr
ask-rating-agent = Wie hat { $agent } Ihnen geholfen? Bitte bewerten Sie das Gespräch von 1 (schlecht) bis 5 (sehr gut).
ask-rating-team = Wie hat unser Team Ihnen geholfen? Bitte bewerten Sie das Gespräch von 1 (schlecht) bis 5 (sehr gut).
rating-thanks = Danke für Ihre Bewertung!
rating-sorry = Danke für Ihre Bewertung. Es tut uns leid, dass wir Sie enttäuscht haben; eine Teamleitung sieht sich das Gespräch an.

## Transcript by email (O3)
transcript-subject = Ihr Gespräch mit { $channel }
transcript-intro = Guten Tag, hier ist wie gewünscht das Protokoll Ihres Gesprächs mit { $channel }.
transcript-outro = Antworten Sie { $channel } einfach, wenn Sie noch etwas brauchen.
transcript-customer = Sie
transcript-team = { $channel }
transcript-title = Protokoll des Gesprächs
transcript-channel = Mit
transcript-customer-label = Kunde/Kundin
transcript-started = Begonnen
transcript-closed = Beendet
transcript-still-open = noch offen
transcript-times-in = Zeiten in
transcript-attachment = Anhang
