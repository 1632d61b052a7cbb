"""``documents``: 68 files an outside probe wrote before searching (session 11), kept as it wrote them.

Recipes, ten near-identical meeting minutes and ten invoice PDFs that differ in names, dates and
amounts, two long PDF manuals queried for one page, letters (docx, odt, html), travel plans,
stories, German, French and Spanish documents, words with two meanings (mouse, python, bank), a
scanned receipt (PDF without a text layer) and a photographed notice (OCR), and 21 clip-art images
on the documents' topics. 64 answered queries (paraphrases, page-specific questions, a name, an
identifier, image captions; a right answer may be a page), 32 absent-concept queries (three of them
French, German and Spanish) and 31 gibberish ones, all written by the probe before any search.
Unlike the other sets its absent and gibberish queries are its own, not the shared seeded pool.

Needs fpdf2, python-docx and odfpy (the ``office`` and ``dev`` extras), DejaVu fonts and
openclipart-png. Measuring only, like every set here.
"""

# ruff: noqa: E701, E702, E501 - the probe's own text, kept verbatim (it is the measurement)

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

OPENCLIPART = Path("/usr/share/openclipart/png")


def missing_sources() -> str | None:
    for module, package in (("fpdf", "fpdf2"), ("docx", "python-docx"), ("odf", "odfpy")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed (pip install {package})"
    if not OPENCLIPART.is_dir():
        return "openclipart-png is not installed (apt-get install openclipart-png)"
    return None


def build(out: Path) -> None:
    """Write ``out/library`` and ``out/labels.jsonl``."""
    _library(out / "library")
    _labels(out)


def _library(L: Path) -> None:  # noqa: N803 - the probe's name for it
    import datetime
    import random
    import textwrap

    import docx
    from fpdf import FPDF
    from odf import dc
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P
    from PIL import Image, ImageDraw, ImageFont

    if L.exists(): shutil.rmtree(L)
    for d in ["recipes","minutes","invoices","manuals","letters","travel","stories","misc","foreign","scans","images"]:
        (L/d).mkdir(parents=True)

    def w(p, s): (L/p).write_text(textwrap.dedent(s).strip()+"\n", encoding="utf-8")  # dedent: the probe wrote these at module level

    def pdf(p, pages, title=None, author=None, date=None):
        f = FPDF(); f.set_auto_page_break(True, 15)
        if title: f.set_title(title)
        if author: f.set_author(author)
        if date: f.set_creation_date(date)
        for pg in pages:
            f.add_page(); f.set_font("Helvetica", size=11)
            f.multi_cell(0, 6, pg)
        f.output(str(L/p))

    def mkdocx(p, paras, title=None, author=None, date=None):
        d = docx.Document()
        for x in paras:
            if x.startswith("# "): d.add_heading(x[2:], 1)
            else: d.add_paragraph(x)
        if title: d.core_properties.title = title
        if author: d.core_properties.author = author
        if date: d.core_properties.created = date
        d.save(str(L/p))

    def mkodt(p, paras, title=None):
        d = OpenDocumentText()
        if title: d.meta.addElement(dc.Title(text=title))
        for x in paras:
            if x.startswith("# "): d.text.addElement(H(outlinelevel=1, text=x[2:]))
            else: d.text.addElement(P(text=x))
        d.save(str(L/p))

    def html(p, title, body, author=None):
        meta_a = f'<meta name="author" content="{author}">' if author else ""
        (L/p).write_text(f"<!doctype html><html><head><title>{title}</title>{meta_a}</head><body><nav>Home | Recipes | About</nav><h1>{title}</h1>{body}<footer>(c) 2024</footer></body></html>", encoding="utf-8")

    # ---------------- recipes
    w("recipes/lasagna.md", """
    # Grandma Rosa's beef lasagna
    Serves 6. Brown 500 g minced beef with one onion and two cloves of garlic, add a tin of crushed tomatoes and simmer for 40 minutes.
    Make a bechamel from 50 g butter, 50 g flour and 600 ml milk, seasoned with nutmeg.
    Layer sheets of pasta, ragu and bechamel three times, finish with grated parmesan and bake at 180 C for 45 minutes.
    Let it rest ten minutes before cutting or the layers will slide apart.
    """)
    w("recipes/tomato-soup.txt", """
    Roasted tomato soup
    Halve 1 kg of ripe plum tomatoes, drizzle with olive oil and roast at 200 C for 30 minutes with a red pepper.
    Blend with 700 ml vegetable stock and a handful of fresh basil. Season, and stir in a spoon of cream before serving.
    Good with grilled cheese sandwiches on a cold evening. Freezes well for three months.
    """)
    html("recipes/chocolate-cake.html", "Flourless chocolate birthday cake",
     "<p>Melt 200 g dark chocolate with 150 g butter. Whisk 5 eggs with 150 g sugar until pale and thick, fold in the chocolate.</p><p>Bake in a 23 cm springform tin at 170 C for 35 minutes; the middle should still wobble. Dust with cocoa and add candles once it has cooled.</p><p>Gluten free, since it contains no flour at all.</p>", author="Mia Hartmann")
    w("foreign/apfelstrudel-de.txt", """
    Apfelstrudel nach Wiener Art
    Für den Teig 250 g Mehl, eine Prise Salz, 125 ml lauwarmes Wasser und 3 Esslöffel Öl zu einem glatten Teig kneten und eine halbe Stunde ruhen lassen.
    Sechs säuerliche Äpfel schälen, in dünne Scheiben schneiden und mit Zucker, Zimt, Rosinen und in Butter gerösteten Semmelbröseln mischen.
    Den Teig auf einem bemehlten Tuch hauchdünn ausziehen, die Füllung verteilen, aufrollen und bei 190 Grad etwa 40 Minuten backen. Mit Puderzucker bestäuben und mit Vanillesoße servieren.
    """)
    w("foreign/tortilla-es.md", """
    # Tortilla de patatas de mi abuela
    Pela y corta en láminas finas cuatro patatas medianas y una cebolla. Fríelas a fuego lento en abundante aceite de oliva durante veinte minutos, hasta que estén tiernas pero sin dorar.
    Escúrrelas y mézclalas con seis huevos batidos y sal. Cuaja la mezcla en una sartén pequeña, dale la vuelta con ayuda de un plato y deja que se haga un par de minutos más.
    Se sirve templada o fría, cortada en triángulos, como tapa.
    """)
    mkdocx("foreign/crepes-fr.docx", ["# Crêpes de la Chandeleur",
     "Dans un saladier, versez 250 g de farine et creusez un puits. Ajoutez quatre œufs, une pincée de sel et deux cuillères de sucre.",
     "Incorporez petit à petit un demi-litre de lait en fouettant pour éviter les grumeaux, puis 50 g de beurre fondu. Laissez reposer la pâte une heure au réfrigérateur.",
     "Faites cuire les crêpes dans une poêle bien chaude légèrement beurrée, une minute de chaque côté. Servez avec du sucre, de la confiture ou de la pâte à tartiner."],
     title="Crêpes", author="Claire Dubois", date=datetime.datetime(2021,2,2))

    # ---------------- meeting minutes family (near-identical)
    chairs = ["Helen Park","Helen Park","Tom Okafor","Helen Park","Tom Okafor","Helen Park","Priya Nair","Helen Park","Tom Okafor","Priya Nair"]
    months = ["January","February","March","April","May","June","July","August","September","October"]
    decisions = [
     "The committee approved buying a second compost bin for 120 pounds.",
     "The committee approved installing a rainwater tank beside the shed for 340 pounds.",
     "The committee voted to replace the broken padlock on the main gate.",
     "The committee agreed to hold a seed swap on the last Saturday of the month.",
     "The committee approved a budget of 200 pounds for new raised beds near the fence.",
     "The committee agreed to ban the use of slug pellets on all plots.",
     "The committee decided to invite the primary school for a planting day.",
     "The committee approved the purchase of a petrol lawnmower for 410 pounds.",
     "The committee voted to evict the holder of plot 14 for neglect after three warnings.",
     "The committee agreed to start a waiting list for new plot holders and close applications.",
    ]
    for i in range(10):
        ext = "md" if i % 2 == 0 else "txt"
        w(f"minutes/garden-committee-2024-{i+1:02d}.{ext}", f"""
    Riverside Allotment Society - committee meeting minutes, {months[i]} 2024
    Present: {chairs[i]} (chair), Sam Whitfield (treasurer), Laura Bennett (secretary), four plot holders.
    1. Apologies were received from Derek Moss.
    2. The minutes of the previous meeting were accepted as a true record.
    3. Treasurer's report: the society's account stands at {1800 + 37*i} pounds after plot fees.
    4. {decisions[i]}
    5. Any other business: members were reminded to keep paths between plots clear and to close the gate.
    The next meeting will be held in the pavilion at 7 pm.
    """)

    # ---------------- invoices family (PDF, near-identical)
    customers = ["Anna Schmidt","Brian O'Neill","Carla Rossi","David Chen","Emma Laurent","Farid Haddad","Grace Kim","Hugo Weber","Isabel Santos","James Miller"]
    services = ["annual boiler service","annual boiler service","replacement of kitchen tap","annual boiler service","unblocking shower drain","annual boiler service","fitting new radiator valve","annual boiler service","repair of leaking toilet cistern","annual boiler service"]
    for i in range(10):
        num = 48240 + i*3
        amt = 85 + i*12.5
        pdf(f"invoices/invoice-{num}.pdf", [f"""Keller & Sons Plumbing Ltd
14 Mill Lane, Harrowgate HG2 7PL   VAT no. GB 293 1184 22

INVOICE No. {num}
Date: 2024-{(i%9)+1:02d}-15
Bill to: {customers[i]}, {10+i} Station Road, Harrowgate

Description: {services[i]}
Labour: 1.5 hours
Parts and materials included.
Amount due: {amt:.2f} GBP (including VAT)

Payment within 30 days by bank transfer to sort code 40-11-62, account 71829304.
Thank you for your custom."""], title=f"Invoice {num}", author="Keller & Sons Plumbing",
            date=datetime.datetime(2024, (i%9)+1, 15, tzinfo=datetime.timezone.utc))

    # ---------------- long documents
    random.seed(7)
    sections = {
     3: "Installing the dishwasher. Place the machine on a level floor and adjust the four feet until the bubble of a spirit level sits centred. Connect the inlet hose to a cold water tap with a 3/4 inch thread.",
     6: "Loading the baskets. Plates go in the lower basket facing the centre; cups and glasses upside down in the upper basket. Long knives belong in the cutlery drawer, blade down.",
     9: "Using rinse aid. Fill the rinse aid dispenser up to the MAX mark. Streaks on glasses mean the dose is too high; water spots mean it is too low. The dose dial has six settings.",
     12: "Regenerating salt and water hardness. If your tap water is hard, set the softener to level H5 and refill the salt container with coarse dishwasher salt, never table salt.",
     17: "Error code E24. The display shows E24 when water is not pumped away: the drain pump is blocked or the drain hose is kinked. Switch off, unscrew the pump cover under the filter and remove broken glass or fruit stones.",
     21: "Child lock. Press and hold the START and DELAY buttons together for three seconds to lock the control panel. A small key symbol lights up. Repeat to unlock.",
     23: "Warranty. The manufacturer repairs faults in materials or workmanship free of charge for 24 months from the date of purchase. Keep the receipt; damage from limescale is not covered.",
    }
    filler = ["This page intentionally describes general safety information for the appliance.",
     "Always disconnect the appliance from the mains before cleaning or maintenance.",
     "Keep packaging material away from children; plastic film can cause suffocation.",
     "The appliance is intended for household use only and must not be used outdoors.",
     "Refer to the technical data table for dimensions, power consumption and noise level.",
     "Dispose of the old appliance at a municipal collection point for electrical waste."]
    pages = []
    for p in range(1, 25):
        body = f"Bluewave DW-600 dishwasher - user manual - page {p}\n\n"
        if p in sections: body += sections[p] + "\n\n"
        body += " ".join(random.sample(filler, 4))
        pages.append(body)
    pdf("manuals/bluewave-dw600-manual.pdf", pages, title="Bluewave DW-600 User Manual", author="Bluewave Appliances", date=datetime.datetime(2019,5,1,tzinfo=datetime.timezone.utc))

    hb = {
     2: "Working hours. Core hours are 10:00 to 15:00; outside those, staff may arrange their day freely as long as they work 37.5 hours a week.",
     5: "Expenses. Train travel is reimbursed at second class. Hotel nights up to 140 pounds in London and 95 pounds elsewhere. Receipts must be submitted within 60 days.",
     8: "Annual leave. Full-time employees receive 27 days of holiday plus public holidays. Up to five unused days may be carried into the next year.",
     13: "Parental leave. Birth mothers receive 26 weeks at full pay; partners receive 6 weeks at full pay, to be taken within the first year after the birth or adoption.",
     16: "Bicycle scheme. Employees may lease a bicycle up to a value of 2000 pounds through salary sacrifice, repaid over 12 months.",
     19: "Grievances. An employee who has a complaint about their treatment should first raise it informally with their line manager, then in writing to Human Resources.",
     22: "Leaving the company. The notice period is one month during probation and three months afterwards. Company laptops must be returned on the last working day.",
    }
    hfill = ["This handbook applies to all employees of Northwind Analytics Ltd.",
     "Policies may be updated; the version on the intranet prevails.",
     "Questions about this handbook can be directed to Human Resources.",
     "Nothing in this handbook forms part of your contract of employment unless stated.",
     "Managers are responsible for applying policies fairly and consistently.",
     "Confidential information must not be shared outside the company."]
    pages = []
    for p in range(1, 24):
        body = f"Northwind Analytics - Employee Handbook 2023 - page {p}\n\n"
        if p in hb: body += hb[p] + "\n\n"
        body += " ".join(random.sample(hfill, 4))
        pages.append(body)
    pdf("manuals/employee-handbook-2023.pdf", pages, title="Employee Handbook", author="Northwind HR", date=datetime.datetime(2023,1,10,tzinfo=datetime.timezone.utc))

    # long German PDF
    de_pages = []
    for p in range(1, 21):
        t = f"Hausordnung und Mieterhandbuch - Seite {p}\n\nDiese Hausordnung gilt für alle Bewohner des Hauses Lindenstraße 12. Bitte nehmen Sie Rücksicht auf Ihre Nachbarn."
        if p == 11: t += "\n\nMülltrennung: Papier kommt in die blaue Tonne, Verpackungen in den gelben Sack, Bioabfall in die braune Tonne. Glas bitte zum Container an der Ecke bringen."
        if p == 15: t += "\n\nRuhezeiten: Mittagsruhe von 13 bis 15 Uhr und Nachtruhe von 22 bis 6 Uhr. An Sonn- und Feiertagen ganztägig keine lauten Arbeiten wie Bohren oder Hämmern."
        de_pages.append(t)
    pdf("foreign/hausordnung-de.pdf", de_pages, title="Hausordnung", author="Hausverwaltung Becker")

    # ---------------- letters
    mkdocx("letters/landlord-mould.docx", ["Dear Mr Patel,",
     "I am writing about the black mould that has been spreading on the bedroom ceiling and behind the wardrobe of flat 3B since November. I reported it by phone twice.",
     "My daughter has asthma and the damp is making it worse. I ask you to send a surveyor and to repair the leaking gutter outside the bedroom window within fourteen days.",
     "Yours sincerely, Olivia Grant"], title="Complaint about mould", author="Olivia Grant", date=datetime.datetime(2023,12,4))
    mkodt("letters/airline-luggage.odt", ["To the Customer Relations team, Skyline Airways",
     "On flight SK 2291 from Lisbon to Manchester on 12 August my suitcase did not arrive. The property irregularity report reference is MANSK48811.",
     "After nine days the bag has still not been delivered. I had to buy clothes, a charger and toiletries, receipts attached, totalling 236 pounds.",
     "I request reimbursement under the Montreal Convention and an update on the search for the suitcase. Kind regards, Daniel Hughes"], title="Lost suitcase claim")
    html("letters/job-offer.html", "Offer of employment",
     "<p>Dear Ms Alvarez,</p><p>We are delighted to offer you the position of Junior Data Analyst at Northwind Analytics, starting on 3 March 2025, with an annual salary of 34,500 pounds.</p><p>The offer is conditional on two satisfactory references. Please confirm your acceptance by signing and returning this letter by 14 February.</p><p>Kind regards, Human Resources</p>", author="Northwind HR")

    # ---------------- travel
    w("travel/lisbon-weekend.md", """
    # Lisbon long weekend, 17-20 May
    Friday: land at 10:40, take the metro red line from the airport to Saldanha, check in at Hotel Lumen. Afternoon tram 28 through Alfama, sunset at the Miradouro da Graça.
    Saturday: day trip to Sintra by train from Rossio station, Pena Palace tickets booked for 11:00. Dinner at a fado house in the Bairro Alto.
    Sunday: pastel de nata at Belém, Jerónimos monastery, the Tower of Belém, then the MAAT museum.
    Monday: flight home at 18:05, leave luggage at the hotel.
    """)
    w("travel/kyoto-itinerary.txt", """
    Kyoto trip plan - autumn
    Day 1: arrive by shinkansen from Tokyo, ryokan near Gion. Evening walk along Hanamikoji street.
    Day 2: Fushimi Inari shrine at dawn before the crowds, thousands of orange torii gates up the mountain. Afternoon at Tofuku-ji for the maple leaves.
    Day 3: Arashiyama bamboo grove and the monkey park, boat ride on the Hozu river.
    Day 4: Nara day trip to see the deer and the giant Buddha at Todai-ji.
    Japan Rail pass: activate at Kyoto station on day 1.
    """)
    mkodt("travel/scotland-camping.odt", ["# Isle of Skye camping trip",
     "We drive up from Glasgow on Thursday, about five and a half hours, and pitch the tents at Glenbrittle campsite beneath the Cuillin ridge.",
     "Pack: four-season tent, midge nets and repellent, waterproof trousers, gas stove with two spare canisters, head torches.",
     "Friday we walk to the Fairy Pools; Saturday the Old Man of Storr if the weather holds, otherwise the Talisker distillery tour.",
     "Ferry home via Mallaig on Sunday is not needed; we return over the Skye Bridge."], title="Skye camping")
    w("foreign/barcelona-viaje-es.txt", """
    Viaje a Barcelona - plan del fin de semana
    Sábado por la mañana visitamos la Sagrada Família (entradas compradas para las 9:30) y después paseamos por el Park Güell.
    Por la tarde bajamos por Las Ramblas hasta el mercado de la Boqueria para comer unas tapas.
    Domingo: playa de la Barceloneta por la mañana y el Museo Picasso por la tarde. Vuelo de regreso a Madrid a las 21:15.
    """)

    # ---------------- stories
    w("stories/lighthouse-keeper.txt", """
    The Last Keeper
    For thirty-one winters Agnes climbed the hundred and twelve steps of the lighthouse at Black Rock Point to wind the clockwork that turned the great lens.
    When the letter came saying the light would be automated, she read it twice, folded it into her apron, and went up to polish the brass as if nothing had changed.
    On her final night a fishing boat lost its engine in the fog off the point. Agnes lit the old paraffin lamp by hand when the new electric beam failed, and the crew of the Mary Ellen rowed home by its glow.
    """)
    w("stories/penguin-march.md", """
    # Pip and the long walk
    Pip was the smallest emperor penguin chick in the colony, and every time the blizzard came he ended up on the cold outside of the huddle.
    His father taught him to shuffle inward, step by patient step, until the warm centre of the crowd closed around him.
    When spring arrived, Pip led the march back to the sea, slipping on his belly across the ice faster than any of the grown-ups.
    """)
    w("stories/bicycle-race.txt", """
    The hill at Col de Vence
    Marco had trained all winter on his grandfather's old steel bicycle, climbing the same hairpin road before work every morning.
    On race day the others sprinted away on carbon frames. He did not chase them. He counted his breaths, kept his rhythm, and one by one he passed them on the final switchbacks.
    He did not win. He came fourth, and his grandfather, waiting at the summit with a flask of coffee, said it was the best fourth place he had ever seen.
    """)

    # ---------------- ambiguous pairs (shared topic words, different meaning)
    w("misc/python-snake-care.md", """
    # Caring for a ball python
    Ball pythons need a vivarium of at least 120 cm with a warm end at 32 C and a cool end around 25 C, controlled by a thermostat.
    Feed a juvenile one defrosted mouse every week, an adult a small rat every two to three weeks. Never handle the snake for two days after feeding.
    Shedding problems usually mean the humidity is too low: keep it at 55 to 60 percent and provide a humid hide.
    """)
    w("misc/python-programming-notes.md", """
    # Python workshop notes
    We covered list comprehensions, dictionaries and how to read a CSV file with the csv module.
    Virtual environments keep each project's packages apart: python -m venv .venv, then activate it before pip install.
    Exceptions: catch the narrowest exception you can, for example FileNotFoundError, rather than a bare except.
    Homework: write a function that counts the words in a text file and returns the ten most common.
    """)
    w("misc/river-bank-restoration.txt", """
    River bank restoration report - Weir Meadow
    Erosion on the north bank of the river has removed nearly two metres of soil since the 2021 floods.
    Volunteers planted willow spiling and coir rolls along a 60 metre stretch to hold the bank together. Kingfishers and otters have been seen nesting and feeding nearby.
    Cattle will be fenced off from the water's edge so the new vegetation can root.
    """)
    mkdocx("misc/bank-loan-letter.docx", ["Dear Mr and Mrs Novak,",
     "Thank you for your application for a mortgage of 210,000 pounds with Harbour Savings Bank.",
     "We are pleased to confirm an offer at a fixed interest rate of 4.2 percent for five years, repayable over 25 years. The monthly repayment will be 1,132 pounds.",
     "The offer is valid for six months. Please contact your mortgage adviser to arrange the valuation of the property."],
     title="Mortgage offer", author="Harbour Savings Bank", date=datetime.datetime(2022,6,20))
    w("misc/computer-mouse-manual.txt", """
    Wireless mouse M220 - quick start
    Insert one AA battery, plug the USB receiver into a free port and switch the mouse on at the bottom.
    If the cursor jumps, move the receiver closer or use a mouse pad; glass surfaces are not supported.
    Press the DPI button to switch between 800, 1200 and 1600 dots per inch.
    """)
    w("misc/mouse-pest-control.txt", """
    Getting rid of mice in the kitchen
    Droppings behind the fridge and gnawed cereal boxes are the first signs of mice.
    Seal gaps around pipes with steel wool, store food in glass jars and set snap traps baited with peanut butter along the walls.
    If the problem persists after two weeks, call a licensed pest controller.
    """)

    # ---------------- scans (no text layer): PDF page image and a PNG photo of a note
    def scan_img(lines, size=(1240, 1754)):
        im = Image.new("L", size, 250); d = ImageDraw.Draw(im)
        try: font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 34)
        except Exception: font = ImageFont.load_default()
        y = 150
        for ln in lines:
            d.text((120, y), ln, fill=20, font=font); y += 60
        return im.rotate(0.7, fillcolor=250).convert("RGB")
    im = scan_img(["Brightside Motors - Garage Receipt", "Vehicle: Ford Fiesta, reg. KX19 TLM", "Front brake pads and discs replaced", "MOT test passed", "Total paid: 312.40 GBP by card", "Mechanic: Steve Rowley"])
    im.save(L/"scans/garage-receipt-scan.pdf", "PDF", resolution=150)
    im2 = scan_img(["PARKING FINE NOTICE", "Penalty charge: 70 GBP", "Reduced to 35 GBP if paid within 14 days", "Location: Queen Street car park", "Vehicle parked outside marked bay"], size=(1000, 700))
    im2.save(L/"scans/parking-fine-photo.png")

    # ---------------- images
    src = OPENCLIPART
    imgs = {
     "lighthouse.png": "buildings/lighthouse_matthew_gates_.png",
     "eiffel-tower.png": "buildings/eiffel_tower_michael_ja_r.png",
     "church.png": "buildings/church_building_01_01.png",
     "bicycle.png": "transportation/bicycle_philippe_colin_01.png",
     "bus.png": "transportation/bus_01.png",
     "anchor.png": "transportation/anchor_juliane_krug_01.png",
     "lasagna.png": "food/lasagna_ganson.png",
     "soup-bowl.png": "food/bowl_of_steaming_soup_01.png",
     "birthday-cake.png": "food/cake_and_candle_anton_fr_01.png",
     "emperor-penguin.png": "animals/emperor_penguin_ralf_ste_01.png",
     "bison.png": "animals/bison_leif_lodahl_01.png",
     "calculator.png": "office/calculator.png",
     "envelope.png": "office/envelope_01.png",
     "sunflower.png": "plants/sun_flower_ganson.png",
     "cactus.png": "plants/cactus_linda_kim_01.png",
     "microscope.png": "science/microscopio_architetto_f_01.png",
     "hammer.png": "tools/hammer_nicu_buculei_01.png",
     "broom.png": "tools/broom_nicu_buculei_01.png",
     "satellite-dish.png": "electronics/satellite_dish_ali_hussn_01.png",
     "television.png": "electronics/television_alexander_d.__01.png",
     "apple.png": "food/apple_bitten_dan_gerhard_01.png",
    }
    for dst, s in imgs.items():
        shutil.copy(src/s, L/"images"/dst)


def _labels(out: Path) -> None:
    Q = []
    def q(i, query, rel): Q.append({"id": i, "query": query, "relevant": rel if isinstance(rel, list) else [rel]})
    def pg(p, n): return {"path": p, "page": n}
    # documents, plain
    q("rec-lasagna", "how do I make lasagne with minced beef and bechamel", "recipes/lasagna.md")
    q("rec-soup-para", "something warm and blended to eat with a toastie when it's chilly", "recipes/tomato-soup.txt")
    q("rec-cake-para", "a dessert for people who cannot eat wheat", "recipes/chocolate-cake.html")
    q("rec-strudel-en", "apple strudel recipe with raisins and cinnamon", "foreign/apfelstrudel-de.txt")
    q("rec-tortilla-en", "Spanish potato omelette", "foreign/tortilla-es.md")
    q("rec-crepes-en", "thin French pancakes batter with milk and eggs", "foreign/crepes-fr.docx")
    q("rec-strudel-de", "Wie backe ich einen Apfelstrudel?", "foreign/apfelstrudel-de.txt")
    # minutes family: differing detail
    q("min-rainwater", "meeting where the allotment committee approved a rainwater tank", "minutes/garden-committee-2024-02.txt")
    q("min-slug", "when did the garden society ban slug pellets", "minutes/garden-committee-2024-06.txt")
    q("min-evict", "minutes where a plot holder was thrown out for neglecting plot 14", "minutes/garden-committee-2024-09.md")
    q("min-lawnmower", "allotment committee buys a petrol lawnmower", "minutes/garden-committee-2024-08.txt")
    q("min-school", "the garden committee invited schoolchildren to plant with them", "minutes/garden-committee-2024-07.md")
    q("min-padlock", "decision to replace the broken lock on the gate", "minutes/garden-committee-2024-03.md")
    q("min-priya-oct", "minutes chaired by Priya Nair about a waiting list", "minutes/garden-committee-2024-10.txt")
    # invoices family
    q("inv-num", "invoice 48258", "invoices/invoice-48258.pdf")
    q("inv-name", "plumbing invoice for Carla Rossi", "invoices/invoice-48246.pdf")
    q("inv-shower", "bill for unblocking the shower drain", "invoices/invoice-48252.pdf")
    q("inv-cistern", "how much did the plumber charge to fix the leaking toilet", "invoices/invoice-48264.pdf")
    q("inv-radiator", "invoice for fitting a radiator valve for Grace Kim", "invoices/invoice-48258.pdf")
    # long PDFs, page-specific
    q("man-e24", "dishwasher shows E24 and water stays in the bottom", pg("manuals/bluewave-dw600-manual.pdf", 17))
    q("man-childlock", "how do I stop my toddler pressing buttons on the dishwasher", pg("manuals/bluewave-dw600-manual.pdf", 21))
    q("man-salt", "which salt to put in the water softener of the dishwasher", pg("manuals/bluewave-dw600-manual.pdf", 12))
    q("man-warranty", "how long is the dishwasher guarantee", pg("manuals/bluewave-dw600-manual.pdf", 23))
    q("man-streaks", "glasses come out with streaks after washing", pg("manuals/bluewave-dw600-manual.pdf", 9))
    q("hb-parental", "how many weeks of paid leave does a new father get", pg("manuals/employee-handbook-2023.pdf", 13))
    q("hb-hotel", "maximum hotel cost I can claim for a business trip to London", pg("manuals/employee-handbook-2023.pdf", 5))
    q("hb-holiday", "how many vacation days do I get per year", pg("manuals/employee-handbook-2023.pdf", 8))
    q("hb-notice", "what is the notice period if I resign", pg("manuals/employee-handbook-2023.pdf", 22))
    q("hb-bike", "cycle to work scheme", pg("manuals/employee-handbook-2023.pdf", 16))
    q("de-waste-en", "which bin does the paper recycling go in", pg("foreign/hausordnung-de.pdf", 11))
    q("de-quiet-de", "Wann ist Nachtruhe im Haus?", pg("foreign/hausordnung-de.pdf", 15))
    # letters
    q("let-mould", "complaint to the landlord about damp and black mould in the bedroom", "letters/landlord-mould.docx")
    q("let-luggage", "claim for a suitcase the airline lost on the way back from Portugal", "letters/airline-luggage.odt")
    q("let-offer", "what salary was offered for the junior analyst job", "letters/job-offer.html")
    # travel
    q("tr-lisbon", "plan for our long weekend in Lisbon", "travel/lisbon-weekend.md")
    q("tr-kyoto-para", "the trip where we see thousands of red gates and tame deer", "travel/kyoto-itinerary.txt")
    q("tr-skye", "what to pack against midges when camping on Skye", "travel/scotland-camping.odt")
    q("tr-bcn-en", "weekend itinerary for Barcelona with the Sagrada Familia", "foreign/barcelona-viaje-es.txt")
    # stories
    q("st-light-para", "the tale of an old woman who tended a coastal beacon until it became automatic", "stories/lighthouse-keeper.txt")
    q("st-penguin", "children's story about a little penguin chick in a blizzard", "stories/penguin-march.md")
    q("st-bike", "story about a cyclist who came fourth in a mountain race", "stories/bicycle-race.txt")
    # ambiguous pairs
    q("amb-python-snake", "how often should I feed my python", "misc/python-snake-care.md")
    q("amb-python-code", "how to set up a virtual environment for python", "misc/python-programming-notes.md")
    q("amb-bank-river", "stopping erosion of the bank of a river with willow", "misc/river-bank-restoration.txt")
    q("amb-bank-loan", "mortgage offer from the bank with the interest rate", "misc/bank-loan-letter.docx")
    q("amb-mouse-pc", "my mouse cursor is jumping around", "misc/computer-mouse-manual.txt")
    q("amb-mouse-pest", "how to get rid of mice in the kitchen", "misc/mouse-pest-control.txt")
    # scans (OCR)
    q("scan-brakes", "receipt for new brake pads on the Fiesta", "scans/garage-receipt-scan.pdf")
    q("scan-parking", "parking penalty charge notice", "scans/parking-fine-photo.png")
    # keyword-like
    q("kw-ref", "MANSK48811", "letters/airline-luggage.odt")
    q("kw-name", "Olivia Grant", "letters/landlord-mould.docx")
    q("kw-phrase", "\"Mary Ellen\"", "stories/lighthouse-keeper.txt")
    # images
    q("img-lighthouse", "a lighthouse", "images/lighthouse.png")
    q("img-penguin", "a penguin", "images/emperor-penguin.png")
    q("img-bicycle", "a bicycle", "images/bicycle.png")
    q("img-cake", "a birthday cake with a candle", "images/birthday-cake.png")
    q("img-eiffel", "the Eiffel Tower in Paris", "images/eiffel-tower.png")
    q("img-sunflower", "a sunflower", "images/sunflower.png")
    q("img-cactus", "a cactus", "images/cactus.png")
    q("img-hammer", "a hammer", "images/hammer.png")
    q("img-bus", "a bus", "images/bus.png")
    q("img-calculator", "picture of a calculator", "images/calculator.png")
    q("img-soup", "a bowl of steaming soup", "images/soup-bowl.png")
    q("img-lasagna", "a drawing of lasagna", "images/lasagna.png")
    absent = ["how to change a car tyre", "wedding speech for my brother", "a violin concerto concert programme",
     "instructions for assembling an IKEA wardrobe", "tax return deadline for self-employed", "a photo of a giraffe",
     "knitting pattern for a wool scarf", "minutes of the school board meeting about uniforms", "invoice from the electrician for rewiring",
     "dentist appointment reminder", "train timetable from Berlin to Prague", "a poem about the moon",
     "recipe for sushi rolls", "insurance claim for a flooded basement", "washing machine error code F05",
     "how to train a puppy to sit", "a picture of a helicopter", "football match report", "guitar chords for a folk song",
     "quarterly sales report for the board", "Rezept für Sauerbraten", "lettre de démission", "receta de paella valenciana",
     "hiking trip to Patagonia", "electricity bill for March", "a drawing of an elephant", "solar panel installation quote",
     "a story about a dragon and a knight", "password reset instructions for the VPN", "invoice 99999",
     "cat vaccination record", "chess opening strategy"]
    for i, a in enumerate(absent): Q.append({"id": f"abs-{i}", "query": a, "kind": "absent"})
    gib = ["vorple quandish", "blorf snizzle wumpet", "xqz trandolex pim", "frobnacious glimmet", "zantripulous wep",
     "krandle moofish octavorn", "plinth gorble splatch", "wizzlecrump daxon", "qwpoeiru zmxn", "glomp trinket zorbulate",
     "sprocklefin umbrage tacit vorn", "hexapodal snirk", "mumblecrust ferrovane", "triskadelphine oogle", "bazzle frump",
     "yorpwhistle clunge", "nindlebeck sarrow", "prazzle tonkwit", "vexilloid gumbrous", "drindle swapflake",
     "oxtrumple fen", "clavish mooncrank", "fizzlewort bandersnoot", "quorple jinx vesh", "snarflewick pottage",
     "lumbersnatch ziv", "grommelquist", "tweedlefrax harm", "bloviant squink", "zibberjack nool", "plomm ferrit quaz"]
    for i, g in enumerate(gib): Q.append({"id": f"gib-{i}", "query": g, "kind": "gibberish"})
    with open(out / "labels.jsonl", "w", encoding="utf-8") as f:
        for x in Q: f.write(json.dumps(x, ensure_ascii=False) + "\n")
