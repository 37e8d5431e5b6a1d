//! Word output: one analysis as an OOXML WordprocessingML document (ECMA-376 Part 1) in a zip,
//! byte-identical across runs (fixed timestamps, fixed part order). A pure function of results.

use crate::error::{Error, Result};
use crate::render::html::analysis::Analysis;
use crate::render::html::page;
use crate::render::html::prose::{self, brackets, level, shown_brackets};
use crate::render::plot::format::num;
use crate::xml::xml_safe;
use std::io::Write;

/// Text width of an A4 page with 1-inch margins, in EMU (914 400 per inch).
const TEXT_W: u64 = 5_731_510;
/// Text height of that page, in EMU.
const TEXT_H: u64 = 8_863_330;

/// Escapes text for XML content and attributes, after replacing characters XML 1.0 refuses.
fn esc(s: &str) -> String {
    crate::render::html::escape_html(&xml_safe(s))
}

fn para(style: &str, text: &str, bold: bool) -> String {
    let b = if bold { "<w:rPr><w:b/></w:rPr>" } else { "" };
    format!("<w:p><w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr><w:r>{b}<w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", esc(text))
}

/// A table with a bold header row; `bold_last` makes the last row bold (the pooled row).
fn table(head: &[String], rows: &[Vec<String>], bold_last: bool) -> String {
    let cell = |t: &str, bold: bool| {
        let b = if bold { "<w:rPr><w:b/></w:rPr>" } else { "" };
        format!("<w:tc><w:p><w:pPr><w:spacing w:after=\"0\"/></w:pPr><w:r>{b}<w:t xml:space=\"preserve\">{}</w:t></w:r></w:p></w:tc>", esc(t))
    };
    let mut s = String::from("<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/><w:tblBorders><w:top w:val=\"single\" w:sz=\"8\" w:space=\"0\" w:color=\"000000\"/><w:bottom w:val=\"single\" w:sz=\"8\" w:space=\"0\" w:color=\"000000\"/><w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"BFBFBF\"/></w:tblBorders><w:tblCellMar><w:left w:w=\"80\" w:type=\"dxa\"/><w:right w:w=\"80\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr>");
    s.push_str("<w:tr><w:trPr><w:tblHeader/></w:trPr>");
    head.iter().for_each(|h| s.push_str(&cell(h, true)));
    s.push_str("</w:tr>");
    for (i, r) in rows.iter().enumerate() {
        let bold = bold_last && i + 1 == rows.len();
        s.push_str("<w:tr>");
        r.iter().for_each(|c| s.push_str(&cell(c, bold)));
        s.push_str("</w:tr>");
    }
    s.push_str("</w:tbl><w:p/>");
    s
}

/// The study table the HTML page shows: study, effect with CI, weight, and the pooled row.
fn studies(a: &Analysis) -> String {
    let fit = &a.fit;
    let head = vec![
        "Study".to_string(),
        format!("{} [{} CI]", a.effect_name, level(fit)),
        "Weight".into(),
    ];
    let mut rows: Vec<Vec<String>> = page::study_rows(a)
        .into_iter()
        .map(|(l, y, lb, ub, w)| vec![l, shown_brackets(y, lb, ub), format!("{}%", num(w, 1))])
        .collect();
    if fit.k > 1 && a.mv_metareg().is_none() {
        let pooled = if fit.options.method.is_fixed() {
            "Pooled (fixed effect)"
        } else {
            "Pooled (random effects)"
        };
        let glmm = crate::render::html::glmm::table_row(a);
        let leads = a.glmm_leads();
        if let Some((label, est)) = glmm.clone().filter(|_| leads) {
            rows.push(vec![label, est, String::new()]);
        }
        rows.push(vec![
            crate::render::html::glmm::pooled_label(a, pooled),
            brackets(fit, fit.estimate, fit.ci_lb, fit.ci_ub),
            "100%".into(),
        ]);
        if let Some((label, est)) = glmm.filter(|_| !leads) {
            rows.push(vec![label, est, String::new()]);
        }
    }
    table(&head, &rows, fit.k > 1 && a.mv_metareg().is_none())
}

/// A multilevel meta-regression's results in place of a pooled estimate: the coefficients
/// (analysis scale) with their CIs and p, and the test of the moderators.
fn mv_metareg(mv: &crate::render::html::analysis::MvRun) -> String {
    let fit = &mv.fit;
    let l = num(fit.level.percent(), 0);
    let mut rows: Vec<Vec<String>> = fit
        .coefficients
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                num(c.estimate, 4),
                format!(
                    "{} to {}; {}",
                    num(c.ci_lb, 4),
                    num(c.ci_ub, 4),
                    crate::render::pvalue::p_value(c.pval, crate::render::pvalue::PStyle::Journal)
                ),
            ]
        })
        .collect();
    rows.push(vec![
        "Moderators".into(),
        crate::render::plot::format::omnibus_stat(&fit.qm, 2),
        crate::render::pvalue::p_value(fit.qm.pval, crate::render::pvalue::PStyle::Journal),
    ]);
    let head = [
        "Coefficient".into(),
        "Estimate".into(),
        format!("{l}% CI / p"),
    ];
    table(&head, &rows, false)
}

/// The pooled results: estimate with CI and p, prediction interval, τ², I², Q.
fn pooled(a: &Analysis) -> String {
    if let Some(mv) = a.mv_metareg() {
        return mv_metareg(mv);
    }
    let fit = &a.fit;
    let mut rows = vec![vec![
        format!("Pooled {}", a.effect_name),
        page::show(fit, fit.estimate),
        page::pooled_detail(a),
    ]];
    if fit.k > 1 {
        if let (Some(pi), false) = (fit.prediction(), fit.options.method.is_fixed()) {
            let [_, l, u] = prose::display_triple(fit, fit.estimate, pi.lb, pi.ub);
            rows.push(vec![
                "Prediction interval".into(),
                format!("{l} to {u}"),
                "range of effects expected in a new study".into(),
            ]);
        }
        let (t2, t2_ci) = prose::tau2_and_ci(fit);
        rows.push(vec!["τ²".into(), t2, t2_ci.unwrap_or_default()]);
        rows.push(vec![
            "I²".into(),
            format!("{}%", num(fit.het.i2, 1)),
            String::new(),
        ]);
        let h = &fit.het;
        rows.push(vec![
            "Q".into(),
            match h.undefined_reason() {
                Some(why) => why.to_string(),
                None => format!("{} (df = {})", num(h.q, 2), h.q_df),
            },
            crate::render::pvalue::p_value(h.q_pval, crate::render::pvalue::PStyle::Journal),
        ]);
    }
    let head = [
        "Statistic".into(),
        "Estimate".into(),
        format!("{} CI / p", level(fit)),
    ];
    table(&head, &rows, false)
}

/// Pixel width, height and dots per inch of a PNG (IHDR and the pHYs chunk; 96 dpi without it).
fn png_size(png: &[u8]) -> Option<(u64, u64, f64)> {
    let be = |at: usize| {
        png.get(at..at + 4)
            .map(|b| u32::from_be_bytes(b.try_into().unwrap_or([0; 4])))
    };
    if png.get(12..16)? != b"IHDR" {
        return None;
    }
    let (w, h) = (u64::from(be(16)?), u64::from(be(20)?));
    let dpi = png
        .windows(4)
        .position(|x| x == b"pHYs")
        .and_then(|at| be(at + 4))
        .map_or(96.0, |ppm| f64::from(ppm) * 0.0254);
    Some((w, h, dpi))
}

/// The forest plot as an inline picture, scaled down to fit the text area.
fn figure(png: &[u8]) -> Result<String> {
    let (w, h, dpi) =
        png_size(png).ok_or_else(|| Error::invalid("the forest plot is not a PNG image"))?;
    let (mut cx, mut cy) = ((w as f64 / dpi * 914_400.0), (h as f64 / dpi * 914_400.0));
    let shrink = (TEXT_W as f64 / cx).min(TEXT_H as f64 / cy).min(1.0);
    cx *= shrink;
    cy *= shrink;
    let (cx, cy) = (cx.round() as u64, cy.round() as u64);
    Ok(format!("<w:p><w:r><w:drawing><wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\"><wp:extent cx=\"{cx}\" cy=\"{cy}\"/><wp:docPr id=\"1\" name=\"Forest plot\"/><a:graphic xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\"><a:graphicData uri=\"http://schemas.openxmlformats.org/drawingml/2006/picture\"><pic:pic xmlns:pic=\"http://schemas.openxmlformats.org/drawingml/2006/picture\"><pic:nvPicPr><pic:cNvPr id=\"1\" name=\"forest.png\"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed=\"rIdForest\"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x=\"0\" y=\"0\"/><a:ext cx=\"{cx}\" cy=\"{cy}\"/></a:xfrm><a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>"))
}

/// `word/document.xml` of one analysis.
fn document(a: &Analysis, png: &[u8]) -> Result<String> {
    let mut b = para("Title", &page::page_title(a), false);
    for w in &a.warnings {
        b.push_str(&para("Normal", &format!("Caution: {w}"), false));
    }
    b.push_str(&para("Heading1", "Results", false));
    b.push_str(&para("Normal", &prose::results(a), false));
    b.push_str(&figure(png)?);
    b.push_str(&para("Caption", &page::forest_caption(a), false));
    let heading = match a.mv_metareg() {
        Some(_) => "Meta-regression results",
        None => "Pooled results",
    };
    b.push_str(&para("Heading1", heading, false));
    b.push_str(&pooled(a));
    b.push_str(&para("Heading1", "Studies", false));
    b.push_str(&studies(a));
    b.push_str(&para("Heading1", "Methods", false));
    b.push_str(&para("Normal", &prose::methods(a), false));
    b.push_str(&para("Heading1", "References", false));
    for r in prose::references(a) {
        b.push_str(&para("Normal", r, false));
    }
    Ok(format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\"><w:body>{b}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1440\" w:right=\"1440\" w:bottom=\"1440\" w:left=\"1440\" w:header=\"708\" w:footer=\"708\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"))
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Default Extension=\"png\" ContentType=\"image/png\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/><Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/></Types>";

const RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";

const DOC_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rIdStyles\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/><Relationship Id=\"rIdForest\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/image\" Target=\"media/forest.png\"/></Relationships>";

const STYLES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Arial\" w:hAnsi=\"Arial\" w:cs=\"Arial\"/><w:sz w:val=\"21\"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after=\"120\"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/></w:style><w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/><w:basedOn w:val=\"Normal\"/><w:rPr><w:b/><w:color w:val=\"1F4E79\"/><w:sz w:val=\"36\"/></w:rPr></w:style><w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/><w:basedOn w:val=\"Normal\"/><w:pPr><w:keepNext/><w:spacing w:before=\"240\"/><w:outlineLvl w:val=\"0\"/></w:pPr><w:rPr><w:b/><w:color w:val=\"1F4E79\"/><w:sz w:val=\"26\"/></w:rPr></w:style><w:style w:type=\"paragraph\" w:styleId=\"Caption\"><w:name w:val=\"caption\"/><w:basedOn w:val=\"Normal\"/><w:rPr><w:i/><w:sz w:val=\"18\"/></w:rPr></w:style></w:styles>";

/// The `.docx` of one analysis, with `forest_png` (the forest plot, carrying its resolution) as
/// its figure.
pub fn analysis_docx(a: &Analysis, forest_png: &[u8]) -> Result<Vec<u8>> {
    let doc = document(a, forest_png)?;
    let err = |e: zip::result::ZipError| Error::invalid(format!("cannot build the .docx: {e}"));
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let parts: [(&str, &[u8]); 6] = [
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", RELS.as_bytes()),
        ("word/document.xml", doc.as_bytes()),
        ("word/styles.xml", STYLES.as_bytes()),
        ("word/_rels/document.xml.rels", DOC_RELS.as_bytes()),
        ("word/media/forest.png", forest_png),
    ];
    for (name, bytes) in parts {
        z.start_file(name, opts).map_err(err)?;
        z.write_all(bytes)
            .map_err(|e| Error::invalid(format!("cannot build the .docx: {e}")))?;
    }
    Ok(z.finish().map_err(err)?.into_inner())
}
