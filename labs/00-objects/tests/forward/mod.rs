//! Test clients that wrap another `ApiClient` and change one verb: `forward_all_but_bind!()`
//! writes, inside `impl ApiClient for Wrapper(inner)`, every verb but `bind` as a call to
//! `self.0`. The wrapper then either leaves `bind` out (it runs the trait's default body) or
//! writes its own. Lab 05's driver tests include this file by path.

/// Every `ApiClient` verb but `bind`, forwarded to `self.0`.
macro_rules! forward_all_but_bind {
    () => {
        async fn get<K: api::client::ApiResource>(
            &self,
            namespace: Option<&str>,
            name: &str,
        ) -> api::client::ApiResult<K> {
            self.0.get(namespace, name).await
        }
        async fn list<K: api::client::ApiResource>(
            &self,
            namespace: Option<&str>,
            selector: &api::LabelSelector,
        ) -> api::client::ApiResult<api::client::ObjectList<K>> {
            self.0.list(namespace, selector).await
        }
        async fn create<K: api::client::ApiResource>(
            &self,
            object: K,
        ) -> api::client::ApiResult<K> {
            self.0.create(object).await
        }
        async fn update<K: api::client::ApiResource>(
            &self,
            object: K,
        ) -> api::client::ApiResult<K> {
            self.0.update(object).await
        }
        async fn update_status<K: api::client::ApiResource>(
            &self,
            object: K,
        ) -> api::client::ApiResult<K> {
            self.0.update_status(object).await
        }
        async fn delete<K: api::client::ApiResource>(
            &self,
            namespace: Option<&str>,
            name: &str,
            options: api::client::DeleteOptions,
        ) -> api::client::ApiResult<K> {
            self.0.delete(namespace, name, options).await
        }
        async fn watch<K: api::client::ApiResource>(
            &self,
            namespace: Option<&str>,
            resource_version: &str,
        ) -> api::client::ApiResult<api::client::WatchStream<K>> {
            self.0.watch(namespace, resource_version).await
        }
    };
}
