//! Arguments shared by the subcommands: reading input, escalc options, model options.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use evident::data::{read_studies, ColumnMap, CsvOptions, Data, Studies};
use evident::effect::{AddTo, EffectSet, EscalcOptions, VType};
use evident::model::Method;
use evident::model::PiType;
use evident::model::RmaOptions;
use evident::model::Test;
use evident::pool::mh::MhOptions;
use evident::{Measure, Scale};
use std::path::PathBuf;

/// Input file and how to read it.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// CSV file of studies (columns as metafor's arguments: ai,bi,ci,di | m1i,... | yi,vi | ...).
    pub file: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// How to read study data and compute effect sizes (shared by every command that reads studies).
#[derive(Args, Debug, Clone)]
pub struct ReadArgs {
    /// Effect measure (OR, RR, RD, PETO, MD, SMD, IRR, IRD, PR, PLO, ZCOR, COR, GEN); default by data type.
    #[arg(long)]
    pub measure: Option<String>,
    /// Map a data column: --col ai=events_treated (repeatable).
    #[arg(long = "col", value_name = "NAME=COLUMN")]
    pub cols: Vec<String>,
    /// Field delimiter (default: detected from the header).
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Decimal separator: '.' or ',' (default: detected for ';'-separated files).
    #[arg(long)]
    pub decimal: Option<char>,
    /// Continuity correction added to zero cells.
    #[arg(long, default_value_t = 0.5)]
    pub add: f64,
    /// Which studies get the correction: only0, all, if0all, none.
    #[arg(long, default_value = "only0")]
    pub to: String,
    /// Drop studies with no events (or only events) in both arms.
    #[arg(long)]
    pub drop00: bool,
    /// Variance type for SMD, RD, PR: LS or UB.
    #[arg(long, default_value = "LS")]
    pub vtype: String,
    /// Scale of pre-computed effects (GEN): identity, log, logit, fisherz.
    #[arg(long)]
    pub scale: Option<ScaleArg>,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum ScaleArg {
    Identity,
    Log,
    Logit,
    Fisherz,
}

impl From<ScaleArg> for Scale {
    fn from(s: ScaleArg) -> Scale {
        match s {
            ScaleArg::Identity => Scale::Identity,
            ScaleArg::Log => Scale::Log,
            ScaleArg::Logit => Scale::Logit,
            ScaleArg::Fisherz => Scale::FisherZ,
        }
    }
}

/// What was read: the studies, the measure chosen and the escalc options.
pub struct Loaded {
    pub studies: Studies,
    pub measure: Measure,
    pub escalc: EscalcOptions,
    pub scale: Option<Scale>,
}

impl ReadArgs {
    /// The `--col NAME=COLUMN` mappings.
    pub fn column_map(&self) -> Result<ColumnMap> {
        let mut map = ColumnMap::new();
        for c in &self.cols {
            let (k, v) = c
                .split_once('=')
                .with_context(|| format!("--col expects NAME=COLUMN, got '{c}'"))?;
            map.insert(k.trim().to_owned(), v.trim().to_owned());
        }
        Ok(map)
    }

    /// `--delimiter` and `--decimal`.
    pub fn csv_options(&self) -> Result<CsvOptions> {
        Ok(CsvOptions {
            delimiter: match self.delimiter {
                Some(c) if c.is_ascii() => Some(c as u8),
                Some(c) => bail!("--delimiter must be a single ASCII character, got '{c}'"),
                None => None,
            },
            decimal_comma: match self.decimal {
                None => None,
                Some('.') => Some(false),
                Some(',') => Some(true),
                Some(c) => bail!("--decimal must be '.' or ',', got '{c}'"),
            },
        })
    }

    /// `--scale`, if given.
    pub fn scale(&self) -> Option<Scale> {
        self.scale.map(Scale::from)
    }

    /// `--measure`, if given.
    pub fn measure(&self) -> Result<Option<Measure>> {
        Ok(self.measure.as_deref().map(str::parse).transpose()?)
    }

    /// `--add`, `--to`, `--drop00`, `--vtype`.
    pub fn escalc(&self) -> Result<EscalcOptions> {
        let escalc = EscalcOptions {
            add: self.add,
            to: self.to.parse::<AddTo>()?,
            drop00: self.drop00,
            vtype: self.vtype.parse::<VType>()?,
        };
        if !(escalc.add >= 0.0 && escalc.add.is_finite()) {
            bail!("--add must be a non-negative number, got {}", self.add);
        }
        Ok(escalc)
    }
}

impl InputArgs {
    pub fn load(&self) -> Result<Loaded> {
        let r = &self.read;
        let studies = read_studies(&self.file, &r.csv_options()?, &r.column_map()?)?;
        let measure = r
            .measure()?
            .unwrap_or_else(|| studies.data.default_measure());
        let escalc = r.escalc()?;
        Ok(Loaded {
            studies,
            measure,
            escalc,
            scale: r.scale(),
        })
    }
}

impl Loaded {
    /// The effect set for model fitting.
    pub fn effects(&self) -> Result<EffectSet> {
        let mut set = EffectSet::from_studies(&self.studies, self.measure, &self.escalc)?;
        set.scale = self.studies.data.kind().scale(self.measure, self.scale);
        Ok(set)
    }
}

/// Preset bundles of defaults.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// REML with Knapp–Hartung, prediction interval and Q-profile CI (current Cochrane guidance; the default).
    Cochrane,
    /// metafor's defaults: REML with z tests.
    Metafor,
    /// RevMan 5: DerSimonian–Laird with z tests; Mantel–Haenszel for binary data; double-zero studies dropped.
    Revman5,
}

/// Model options.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// τ² estimator or pooling method: FE, DL, HE, HS, SJ, ML, REML, EB, PM, MH, Peto.
    #[arg(long)]
    pub method: Option<String>,
    /// Inference: z, knha (Knapp–Hartung) or adhoc (Knapp–Hartung never narrower than z).
    #[arg(long)]
    pub test: Option<String>,
    /// Confidence level in percent.
    #[arg(long, default_value_t = 95.0)]
    pub level: f64,
    /// Prediction interval: metafor (default) or riley (t with k − 2 df).
    #[arg(long, default_value = "metafor")]
    pub pi: String,
    /// Bundle of defaults: cochrane, metafor, revman5.
    #[arg(long, value_enum, default_value = "cochrane")]
    pub preset: Preset,
    /// Fisher scoring step multiplier (metafor's stepadj), for REML that does not converge.
    #[arg(long)]
    pub stepadj: Option<f64>,
    /// Fisher scoring iteration limit.
    #[arg(long)]
    pub maxiter: Option<usize>,
    /// Fisher scoring convergence threshold.
    #[arg(long)]
    pub threshold: Option<f64>,
}

/// The pooling method chosen: an `rma` estimator, Mantel–Haenszel, or Peto.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pooling {
    Rma(RmaOptions),
    Mh(MhOptions),
    Peto(MhOptions),
}

impl ModelArgs {
    /// Resolves the options for a batch of rma fits (no data to inspect: binary-data presets do
    /// not switch to Mantel–Haenszel here).
    pub fn pooling_for_batch(&self) -> Result<Pooling> {
        let mut dummy = Loaded {
            studies: Studies {
                source: PathBuf::new(),
                labels: Vec::new(),
                lines: Vec::new(),
                data: Data::Precomputed {
                    yi: Vec::new(),
                    vi: Vec::new(),
                },
                moderators: Vec::new(),
            },
            measure: Measure::GEN,
            escalc: EscalcOptions::default(),
            scale: None,
        };
        self.pooling(&mut dummy)
    }

    /// Resolves the preset and explicit options for this data.
    pub fn pooling(&self, loaded: &mut Loaded) -> Result<Pooling> {
        let binary = matches!(
            loaded.studies.data,
            Data::TwoByTwo { .. } | Data::Incidence { .. }
        );
        let method = self
            .method
            .as_deref()
            .map(|m| m.trim().to_ascii_uppercase());
        if self.preset == Preset::Revman5 {
            loaded.escalc.drop00 = true;
        }
        let default_test = match self.preset {
            Preset::Cochrane => Test::Knha,
            Preset::Metafor | Preset::Revman5 => Test::Z,
        };
        let test = match &self.test {
            Some(t) => t.parse::<Test>()?,
            None => default_test,
        };
        let mh = MhOptions {
            level: self.level,
            ..MhOptions::default()
        };
        match method.as_deref() {
            Some("MH") => return Ok(Pooling::Mh(mh)),
            Some("PETO") => return Ok(Pooling::Peto(mh)),
            None if self.preset == Preset::Revman5 && binary && loaded.measure != Measure::PETO => {
                return Ok(Pooling::Mh(mh))
            }
            _ => {}
        }
        Ok(Pooling::Rma(self.rma(method.as_deref(), test)?))
    }

    /// Inverse-variance options for effects that carry only yi and vi (no Mantel–Haenszel or Peto).
    pub fn rma_options(&self) -> Result<RmaOptions> {
        let method = self
            .method
            .as_deref()
            .map(|m| m.trim().to_ascii_uppercase());
        if matches!(method.as_deref(), Some("MH" | "PETO")) {
            bail!("Mantel–Haenszel and Peto pooling need 2×2 counts in every row; use an inverse-variance method (FE, DL, REML, ...)");
        }
        let test = match &self.test {
            Some(t) => t.parse::<Test>()?,
            None => match self.preset {
                Preset::Cochrane => Test::Knha,
                Preset::Metafor | Preset::Revman5 => Test::Z,
            },
        };
        self.rma(method.as_deref(), test)
    }

    fn rma(&self, method: Option<&str>, test: Test) -> Result<RmaOptions> {
        let m = match method {
            Some(m) => m.parse::<Method>()?,
            None => match self.preset {
                Preset::Revman5 => Method::DL,
                _ => Method::REML,
            },
        };
        let mut o = RmaOptions {
            method: m,
            test,
            level: self.level,
            pi_type: self.pi.parse::<PiType>()?,
            ..RmaOptions::default()
        };
        if let Some(s) = self.stepadj {
            if !(s > 0.0 && s <= 1.0) {
                bail!("--stepadj must lie in (0, 1], got {s}");
            }
            o.control.stepadj = s;
        }
        if let Some(n) = self.maxiter {
            o.control.maxiter = n;
        }
        if let Some(t) = self.threshold {
            o.control.threshold = t;
        }
        Ok(o)
    }
}
