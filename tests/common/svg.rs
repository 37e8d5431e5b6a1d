//! Reading the SVG the plots write: their text items, for tests that compare what a figure says.

/// The SVG's text items: (y, text), XML entities decoded.
pub fn texts(svg: &str) -> Vec<(String, String)> {
    svg.split("<text")
        .skip(1)
        .map(|chunk| {
            let y = chunk
                .split(" y=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let t = chunk.split_once('>').unwrap().1;
            let t = t.split("</text>").next().unwrap().trim();
            let t = t
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            (y.to_string(), t)
        })
        .collect()
}

/// The SVG's texts alone, in drawing order.
pub fn text_content(svg: &str) -> Vec<String> {
    texts(svg).into_iter().map(|(_, t)| t).collect()
}
