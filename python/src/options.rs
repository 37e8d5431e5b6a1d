//! The keyword arguments of the Python functions (handed over as dicts by `evident/__init__.py`)
//! as the library's option types, parsed by the library's own `FromStr` impls.

use evident::effect::{AddTo, EscalcOptions, VType};
use evident::model::{Control, Level, Method, PiType, RmaOptions, Test};
use evident::pool::mh::MhOptions;
use evident::{Error, Measure, Result, Scale};
use pyo3::prelude::*;
use std::collections::HashMap;

/// metafor's `escalc` settings.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct EscalcArgs {
    pub add: Option<f64>,
    pub to: String,
    pub drop00: bool,
    pub vtype: String,
}

/// metafor's `rma` settings.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct RmaArgs {
    pub method: String,
    pub test: String,
    pub level: f64,
    pub pi_type: String,
    pub tau2: Option<f64>,
    pub control: HashMap<String, f64>,
    pub scale: Option<String>,
}

/// The measure asked for, or `None` for the data type's default.
pub fn measure(name: Option<&str>) -> Result<Option<Measure>> {
    name.map(str::parse).transpose()
}

impl EscalcArgs {
    /// The options for `measure`; `add` defaults to metafor's for the measure.
    pub fn options(&self, measure: Measure) -> Result<EscalcOptions> {
        Ok(EscalcOptions {
            add: self.add.unwrap_or_else(|| measure.default_add()),
            to: self.to.parse::<AddTo>()?,
            drop00: self.drop00,
            vtype: self.vtype.parse::<VType>()?,
            ..EscalcOptions::default()
        })
    }

    /// `rma.mh` / `rma.peto`: a scalar `add`, `to` and `drop00` apply to the per-study effects
    /// behind Q (metafor's rule); the pooled estimate uses the counts as they are.
    pub fn mh_options(&self, level: f64, correct: bool) -> Result<MhOptions> {
        Ok(MhOptions {
            correct,
            level: Level::new(level)?,
            ..MhOptions::for_study_effects(
                self.add.unwrap_or(0.5),
                self.to.parse::<AddTo>()?,
                self.drop00,
            )
        })
    }
}

/// Sets one `control` entry by metafor's name (`tau2.init` may be written `tau2_init`).
fn set_control(c: &mut Control, key: &str, v: f64) -> Result<()> {
    match key.replace('_', ".").as_str() {
        "threshold" => c.threshold = v,
        "maxiter" => {
            c.maxiter = v as usize;
            c.uniroot_maxiter = v as usize;
        }
        "stepadj" => c.stepadj = v,
        "tol" => c.tol = v,
        "ll0check" => c.ll0check = v != 0.0,
        "tau2.init" => c.tau2_init = Some(v),
        "tau2.min" => c.tau2_min = v,
        "tau2.max" => c.tau2_max = Some(v),
        _ => {
            return Err(Error::invalid(format!(
                "unknown control setting '{key}': expected threshold, maxiter, stepadj, tol, \
                 ll0check, tau2.init, tau2.min or tau2.max"
            )))
        }
    }
    Ok(())
}

impl RmaArgs {
    /// The model options.
    pub fn options(&self) -> Result<RmaOptions> {
        let mut control = Control::default();
        for (k, v) in &self.control {
            set_control(&mut control, k, *v)?;
        }
        Ok(RmaOptions {
            method: self.method.parse::<Method>()?,
            test: self.test.parse::<Test>()?,
            level: Level::new(self.level)?,
            pi_type: self.pi_type.parse::<PiType>()?,
            tau2_fixed: self.tau2,
            control,
            ..RmaOptions::default()
        })
    }

    /// The name [`RmaArgs::scale`] reads for `scale`, if it has one.
    pub fn scale_name(scale: Scale) -> Option<&'static str> {
        match scale {
            Scale::Identity => Some("identity"),
            Scale::Log => Some("log"),
            Scale::Logit => Some("logit"),
            Scale::FisherZ => Some("fisherz"),
            _ => None,
        }
    }

    /// The scale of pre-computed effects (metafor's `transf` for yi/vi input), if given.
    pub fn scale(&self) -> Result<Option<Scale>> {
        Ok(match self.scale.as_deref() {
            None => None,
            Some("identity") => Some(Scale::Identity),
            Some("log") => Some(Scale::Log),
            Some("logit") => Some(Scale::Logit),
            Some("fisherz") => Some(Scale::FisherZ),
            Some(s) => {
                return Err(Error::invalid(format!(
                    "unknown scale '{s}': expected identity, log, logit or fisherz"
                )))
            }
        })
    }
}
