//! Who owns ingested data and how far it may be shared: the `--org` and `--tlp` of every
//! ingest command (captures and feeds).

use anyhow::bail;
use clap::Args;
use greenwatch_model::access::{Label, Tlp, OPERATOR_ORG};
use greenwatch_store::AccountStore;

/// Who owns ingested data and how far it may be shared.
#[derive(Args, Clone)]
pub struct LabelArgs {
    /// Owner organisation (slug) of the ingested data: one added with `greenwatch org add`, or
    /// the operator's own (made on the first start of `serve`).
    #[arg(long, default_value = OPERATOR_ORG)]
    pub org: String,
    /// TLP 2.0 label: clear, green, amber, amber+strict or red. Only CLEAR data is public.
    #[arg(long, default_value = "amber")]
    pub tlp: Tlp,
}

impl LabelArgs {
    /// The label, once its owner is known to exist: an organisation of the store, or the
    /// operator's. Data of an organisation that does not exist would be seen by nobody.
    pub fn label(&self, store: &dyn AccountStore) -> anyhow::Result<Label> {
        let orgs = store.orgs()?;
        if self.org != OPERATOR_ORG && !orgs.iter().any(|o| o.slug == self.org) {
            let known: Vec<&str> = orgs.iter().map(|o| o.slug.as_str()).collect();
            bail!(
                "unknown organisation {:?}: add it first with `greenwatch org add {} --name NAME` \
                 (known: {})",
                self.org,
                self.org,
                if known.is_empty() {
                    "none yet".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
        Ok(Label {
            owner: self.org.clone(),
            tlp: self.tlp,
        })
    }
}
