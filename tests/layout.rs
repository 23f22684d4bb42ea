//! The email looks right: the dry run's HTML part, rendered by headless Chromium at phone and
//! desktop widths, does not overflow horizontally, and every paper's title link is visible.
//! Chromium comes from Debian's `chromium` package (.ci/run installs it).

mod common;

use std::path::Path;
use std::process::Command;

use common::Sandbox;

/// Appended to the email's HTML: measures the layout after load and posts the verdict to the
/// page that frames it, which writes it into its DOM for `--dump-dom` to print. (Headless
/// Chromium has a minimum window width, so the email is framed at the width under test.)
const MEASURE: &str = r#"
<script>
window.addEventListener('load', () => {
  const width = window.innerWidth;
  const doc = document.documentElement;
  const links = [...document.querySelectorAll('a[href^="https://huggingface.co/papers/"]')]
    .filter(a => !a.href.endsWith('/papers/trending'));
  const hidden = links.filter(a => {
    const r = a.getBoundingClientRect();
    const s = getComputedStyle(a);
    return r.width <= 0 || r.height <= 0 || r.left < 0 || r.right > width + 1
      || s.visibility === 'hidden' || s.display === 'none' || parseFloat(s.opacity) === 0;
  }).map(a => a.textContent.slice(0, 60));
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .map(e => e.tagName + ':' + (e.textContent || '').slice(0, 40));
  parent.postMessage(JSON.stringify({
    width, scrollWidth: doc.scrollWidth, links: links.length, hidden, wide: wide.slice(0, 5)
  }), '*');
});
</script>
"#;

/// The page that frames the email at a given width and collects the verdict.
fn frame(email: &str, width: u32) -> String {
    format!(
        r#"<!DOCTYPE html><html><body style="margin:0">
<iframe src="{email}" style="width:{width}px; height:900px; border:0; display:block"></iframe>
<pre id="layout-result"></pre>
<script>window.addEventListener('message', e => {{ document.getElementById('layout-result').textContent = e.data; }});</script>
</body></html>"#
    )
}

fn chromium() -> String {
    for candidate in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return candidate.to_string();
        }
    }
    panic!("headless Chromium is needed for the layout test: apt-get install chromium");
}

fn measure(page: &Path) -> serde_json::Value {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--window-size=1200,1000")
        .arg("--virtual-time-budget=5000")
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("<pre id=\"layout-result\">").unwrap_or_else(|| {
        panic!(
            "no layout result from Chromium: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let json = &dom[start + "<pre id=\"layout-result\">".len()..];
    let json = &json[..json.find("</pre>").unwrap()];
    serde_json::from_str(
        &json
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">"),
    )
    .unwrap()
}

/// Render a listing's digest HTML with a dry run, then check it at both widths.
fn assert_lays_out(input: &Path, expected_papers: usize) {
    let sb = Sandbox::new();
    let html = sb.path("digest.html");
    sb.ok(&[
        "--dry-run",
        "--date",
        "2026-12-01",
        "--input",
        input.to_str().unwrap(),
        "--output",
        html.to_str().unwrap(),
    ]);
    let mut page = std::fs::read_to_string(&html).unwrap();
    let at = page.rfind("</body>").unwrap();
    page.insert_str(at, MEASURE);
    let measured_page = sb.path("measured.html");
    std::fs::write(&measured_page, page).unwrap();
    for width in [375, 1024] {
        let framing = sb.path(&format!("frame-{width}.html"));
        std::fs::write(&framing, frame("measured.html", width)).unwrap();
        let m = measure(&framing);
        assert_eq!(m["width"], width, "{m}");
        assert_eq!(
            m["links"], expected_papers,
            "every paper has its title link: {m}"
        );
        assert!(
            m["scrollWidth"].as_u64().unwrap() <= width as u64,
            "overflows horizontally at {width} px: {m}"
        );
        assert_eq!(
            m["hidden"],
            serde_json::json!([]),
            "title links not visible at {width} px: {m}"
        );
        assert_eq!(
            m["wide"],
            serde_json::json!([]),
            "elements wider than {width} px: {m}"
        );
    }
}

#[test]
fn the_digest_fits_phone_and_desktop_widths() {
    assert_lays_out(&common::repo_file("fixtures/hf/trending-small.html"), 5);
    assert_lays_out(&common::repo_file("fixtures/hf/hostile.html"), 2);
}

#[test]
fn the_real_fifty_paper_digest_fits_phone_and_desktop_widths() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("trending.html");
    std::fs::write(&page, common::real_fixture("trending-2026-10-07.html")).unwrap();
    assert_lays_out(&page, 50);
}
