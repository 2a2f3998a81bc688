# Data API request bodies and answers: pure functions, no I/O, unit-tested on their own.
add_library(sma_sysdig_data_query STATIC data_api_request.cpp data_api_response.cpp)
target_link_libraries(sma_sysdig_data_query PUBLIC sma_api)
