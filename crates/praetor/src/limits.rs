//! Process limits raised at agent start.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Raises the soft limit on open files to the hard limit, as Go's runtime does for
/// Consul: every blocking query holds a connection, and the usual soft limit of 1024
/// would refuse clients long before memory runs out. Returns the soft limit in force
/// afterwards (`None`: unlimited); a failure leaves the limit as it was.
pub fn raise_open_files() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return limit.current;
    }
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => raised.current,
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open files limit");
            limit.current
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_open_files_limit_becomes_the_hard_one() {
        let hard = getrlimit(Resource::Nofile).maximum;
        assert_eq!(raise_open_files(), hard);
        assert_eq!(getrlimit(Resource::Nofile).current, hard);
    }
}
