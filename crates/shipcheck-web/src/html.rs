//! HTML by hand: every text that reaches the page goes through [`esc`] (evidence carries
//! commit messages, PR titles and log lines), and the layout has no inline script or style
//! (the Content-Security-Policy forbids both).

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `title` is text (escaped here), `body` is HTML already escaped.
pub fn page(title: &str, who: Option<&str>, body: &str) -> String {
    let login = match who {
        Some(w) => format!(
            "<span class=\"who\">{}</span> <form method=\"post\" action=\"/logout\" class=\"inline\"><button>Log out</button></form>",
            esc(w)
        ),
        None => "<a href=\"/login\">Log in</a>".into(),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · shipcheck</title><link rel=\"stylesheet\" href=\"/assets/app.css\">\
<script src=\"/assets/app.js\" defer></script></head>\
<body><header><a href=\"/\" class=\"brand\">shipcheck</a> <nav>{login}</nav></header>\
<main>{body}</main></body></html>\n",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            esc("<script>alert(1)</script> \"><img onerror=x> & 'q'"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img onerror=x&gt; &amp; &#39;q&#39;"
        );
    }
}
