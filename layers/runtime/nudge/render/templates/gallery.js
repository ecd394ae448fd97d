// Filter the gallery by campaign (and copy source). No data leaves the page.
(function () {
  var campaign = document.getElementById("campaign-filter");
  var source = document.getElementById("source-filter");
  var count = document.getElementById("shown-count");
  function apply() {
    var shown = 0;
    var cards = document.querySelectorAll(".email-card");
    for (var i = 0; i < cards.length; i++) {
      var card = cards[i];
      var visible = (campaign.value === "" || card.getAttribute("data-campaign") === campaign.value) &&
                    (source.value === "" || card.getAttribute("data-source") === source.value);
      card.hidden = !visible;
      if (visible) { shown++; }
    }
    count.textContent = String(shown);
  }
  campaign.addEventListener("change", apply);
  source.addEventListener("change", apply);
  apply();
})();
