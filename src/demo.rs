pub async fn load_many(_s: &crate::state::AppState, _n: usize) -> anyhow::Result<String> {
    Ok(String::new())
}
pub async fn load_showcase(_s: &crate::state::AppState) -> anyhow::Result<String> {
    Ok(String::new())
}
