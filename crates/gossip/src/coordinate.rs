//! Vivaldi network coordinates (`/v1/coordinate`, `consul rtt`, `?near=`).

use serde::Serialize;

/// A node's network coordinate, in Consul's JSON shape (`{"Vec":[…],"Error":…,…}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Coordinate {
    /// The Euclidean part (8 dimensions).
    pub vec: Vec<f64>,
    /// Confidence in the coordinate (lower is better).
    pub error: f64,
    /// Distance offset from the node's own observations.
    pub adjustment: f64,
    /// Distance from the node to the network core.
    pub height: f64,
}

impl Coordinate {
    /// Estimated round-trip time to `other`, as `consul rtt` computes it.
    pub fn distance_to(&self, other: &Coordinate) -> std::time::Duration {
        let euclid: f64 = self
            .vec
            .iter()
            .zip(&other.vec)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        let mut secs = euclid + self.height + other.height;
        let adjusted = secs + self.adjustment + other.adjustment;
        if adjusted > 0.0 {
            secs = adjusted;
        }
        std::time::Duration::from_secs_f64(secs.max(0.0))
    }

    pub(crate) fn from_serf(c: &serf::coordinate::Coordinate) -> Self {
        Self {
            vec: c.portion().to_vec(),
            error: c.error(),
            adjustment: c.adjustment(),
            height: c.height(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_adds_heights_and_adjustments_like_consul() {
        let a = Coordinate {
            vec: vec![0.0, 0.0],
            error: 1.5,
            adjustment: 0.0,
            height: 0.001,
        };
        let b = Coordinate {
            vec: vec![0.003, 0.004],
            error: 1.5,
            adjustment: 0.0,
            height: 0.001,
        };
        let d = a.distance_to(&b).as_secs_f64();
        assert!((d - 0.007).abs() < 1e-9, "{d}");
        // A negative adjustment that would make the distance negative is ignored.
        let c = Coordinate {
            adjustment: -1.0,
            ..b.clone()
        };
        assert!((a.distance_to(&c).as_secs_f64() - 0.007).abs() < 1e-9);
    }

    #[test]
    fn serializes_in_consul_shape() {
        let c = Coordinate {
            vec: vec![0.0],
            error: 1.5,
            adjustment: 0.0,
            height: 1e-5,
        };
        assert_eq!(
            serde_json::to_string(&c).expect("json"),
            r#"{"Vec":[0.0],"Error":1.5,"Adjustment":0.0,"Height":0.00001}"#
        );
    }
}
