# PromQL text and Prometheus API answers: pure functions, no I/O, unit-tested on their own.
add_library(sma_promql_query STATIC promql_builder.cpp promql_response.cpp)
target_link_libraries(sma_promql_query PUBLIC sma_api)
