def test_results_are_masked_without_pii_read(login, tree, session):
    from datetime import date

    from backend.screenings.models import ScreeningRecord

    cadre = login("cadre", tree.town_a)
    body = {"name": "刘秀兰", "id_number": "11010519491231002X", "branch_id": tree.village_a1.id}
    woman = cadre.post("/api/v1/women", json=body)
    assert woman.status_code == 201, woman.text
    rec = cadre.post(
        "/api/v1/screenings",
        json={
            "woman_id": woman.json()["id"],
            "kind": "cervical",
            "screened_on": date.today().isoformat(),
            "method": "cytology",
            "result": "abnormal",
            "tbs": "HSIL",
        },
    )
    assert rec.status_code == 201, rec.text
    assert rec.json()["tbs"] == "HSIL" and rec.json()["result_masked"] is False
    rep = login("village_rep", tree.village_a1)
    seen = rep.get(f"/api/v1/screenings/{rec.json()['id']}").json()
    assert seen["result"] is None and seen["tbs"] is None and seen["result_masked"] is True
    listed = rep.get("/api/v1/screenings").json()["items"]
    assert listed and all(r["result"] is None and r["result_masked"] for r in listed)
    assert session.get(ScreeningRecord, rec.json()["id"]).tbs == "HSIL"
